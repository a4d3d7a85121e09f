"""``/healthz``, without a login, for keepalived's track script and load balancers: 200 while the
commander runs and its last poll cycle is fresh (``appliance.health.assess``, as ``minerwatch
status --alive`` decides), 503 otherwise; the body is one line saying which."""

from __future__ import annotations

import time

from flask import Blueprint, current_app

from appliance import health
from web.auth.guard import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        state, written_at = health.load(services().state_dir)
    except health.HealthFileError as exc:
        return _line(str(exc), 503)
    verdict = health.assess(state, written_at, time.time())
    return _line(verdict.headline, 200 if verdict.running else 503)


def _line(text: str, status: int):
    return current_app.response_class(text + "\n", status=status, mimetype="text/plain")
