"""``/api/v1``: JSON for what the pages show, read through ``web.farm_view``; described by
``openapi.json`` beside this module, which the tests hold every response to."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from flask import Blueprint, abort, current_app, g, jsonify, request

from appliance.alerts.engine import STATE_FILE
from appliance.alerts.history import read_history
from appliance.asic_sentries import load_cursors
from web import dashboard_view, farm_view, history, lookup, map_view, miner_query, rig_view
from web.auth import client
from web.auth.guard import requires, services
from web.farm_view import Unavailable
from web.pages import farm_map as farm_map_page

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_SILENCE_S = 30 * 86400.0


def _state_dir():
    return services().state_dir


@bp.errorhandler(Unavailable)
def unavailable(exc: Unavailable):
    return jsonify(error=str(exc)), 503


@bp.get("/openapi.json")
def openapi():
    return current_app.response_class(files("web.api").joinpath("openapi.json").read_bytes(),
                                      mimetype="application/json")


@bp.get("/me")
@requires("viewer")
def me():
    return jsonify(name=g.identity.name, role=g.identity.role)


@bp.get("/farm")
@requires("viewer")
def farm():
    return jsonify(farm_view.farm(_state_dir()))


@bp.get("/dashboard")
@requires("viewer")
def dashboard():
    return jsonify(dashboard_view.summary(_state_dir()))


@bp.get("/map")
@requires("viewer")
def farm_map():
    metric, site = farm_map_page.chosen()
    return jsonify(map_view.as_json(map_view.farm_map(_state_dir(), services().config.sites, metric, site)))


MAX_HISTORY = timedelta(days=400)


@bp.get("/farm/history")
@requires("viewer")
def farm_history():
    until = _moment("to", time.time())
    since = _moment("from", until.timestamp() - 86_400)
    if not timedelta(0) < until - since <= MAX_HISTORY:
        abort(400, f"from must be before to, and at most {MAX_HISTORY.days} days before it")
    return jsonify(dashboard_view.history(_state_dir(), since, until))


def _moment(name: str, default: float) -> datetime:
    text = request.args.get(name)
    try:
        seconds = default if text is None else float(text)
        if not math.isfinite(seconds):
            raise ValueError(text)
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        abort(400, f"{name} must be a time in Unix seconds, not {text!r}")


def _number(name: str, default: int, most: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        abort(400, f"{name} must be a whole number from 1 to {most}, not {text!r}")
    return int(text)


@bp.get("/miners")
@requires("viewer")
def miners():
    try:
        query = miner_query.parse(request.args)
    except miner_query.BadQuery as exc:
        abort(400, str(exc))
    page = farm_view.miners(_state_dir(), query)
    return jsonify(total=page.total, items=page.items, problems=page.problems)


@bp.get("/miners/<key>")
@requires("viewer")
def miner(key: str):
    return jsonify(lookup.miner(_state_dir(), key))


def _window():
    try:
        return history.window(request.args.get("from"), request.args.get("to"), time.time())
    except ValueError as exc:
        abort(400, str(exc))


@bp.get("/miners/<key>/history")
@requires("viewer")
def miner_history(key: str):
    since, until = _window()
    return jsonify(history.miner(_state_dir(), key, since, until))


@bp.get("/rigs")
@requires("viewer")
def rigs():
    page = rig_view.rigs(_state_dir(), request.args.get("site") or None, request.args.get("q") or None)
    return jsonify(total=page.total, items=page.items, problems=page.problems)


@bp.get("/rigs/<key>")
@requires("viewer")
def rig(key: str):
    return jsonify(lookup.rig(_state_dir(), key))


@bp.get("/rigs/<key>/history")
@requires("viewer")
def rig_history(key: str):
    since, until = _window()
    return jsonify(history.rig(_state_dir(), key, since, until))


@bp.get("/alerts")
@requires("viewer")
def alerts():
    found = sorted(farm_view.alerts(_state_dir()), key=lambda a: (a.state != "firing", a.since))
    return jsonify(items=[farm_view.alert_json(alert) for alert in found])


def _known_alert(alert_id: str, firing: bool) -> None:
    if not any(a.id == alert_id and (a.state == "firing" or not firing) for a in farm_view.alerts(_state_dir())):
        abort(404, f"no {'firing ' if firing else ''}alert has the id {alert_id!r}")


def _recorded(kind: str, **fields):
    """Recorded for the commander, which applies it within seconds (``appliance.intake``);
    ``GET /api/v1/changes/<id>`` says when it has."""
    change = services().changes.record(g.identity.name, client(), kind, **fields)
    return jsonify(change=change, outcome=None), 202


@bp.post("/alerts/<path:alert_id>/ack")
@requires("operator")
def acknowledge(alert_id: str):
    _known_alert(alert_id, firing=True)
    return _recorded("alert_ack", alert=alert_id)


@bp.post("/alerts/<path:alert_id>/silence")
@requires("operator")
def silence(alert_id: str):
    body = request.get_json(silent=True) or {}
    seconds, reason = body.get("seconds"), body.get("reason")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 60 <= seconds <= MAX_SILENCE_S:
        abort(400, f"seconds: how long, from 60 to {MAX_SILENCE_S:g}")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
        abort(400, "reason: why, in at most 200 characters (the next shift reads it)")
    _known_alert(alert_id, firing=False)
    return _recorded("alert_silence", alert=alert_id, until=time.time() + seconds, reason=reason.strip())


@bp.post("/alerts/<path:alert_id>/unsilence")
@requires("operator")
def unsilence(alert_id: str):
    return _recorded("alert_unsilence", alert=alert_id)


@bp.get("/alerts/history")
@requires("viewer")
def alert_history():
    """What fired, was acknowledged, silenced and resolved since ``since`` (Unix s; default a day ago)."""
    since = request.args.get("since", type=float)
    since = time.time() - 86400 if since is None or not math.isfinite(since) else since
    events = read_history(_state_dir() / STATE_FILE, since)
    return jsonify(items=[dict(event) for event in events[-_number("limit", 1000, 100_000):]])


@bp.get("/changes/<change_id>")
@requires("viewer")
def change(change_id: str):
    return jsonify(change=change_id, outcome=services().changes.outcome(change_id))


@bp.get("/asic-sentries")
@requires("viewer")
def asic_sentries():
    """Each ASIC sentry as the commander last pulled it: how far behind, its buffer, why a pull fails."""
    now = time.time()
    return jsonify(items=[{"name": name, "pulled_at": c.pulled_at, "polled_at": c.polled_at,
                           "behind_cycles": c.behind,
                           "behind_s": None if c.behind is None or c.polled_at is None
                           else max(0.0, (c.newest_polled_at or c.polled_at) - c.polled_at),
                           "stale_s": None if c.polled_at is None else max(0.0, now - c.polled_at),
                           "buffer_bytes": c.buffer_bytes, "buffer_max_bytes": c.buffer_max_bytes,
                           "error": c.error, "failing_since": c.failing_since}
                          for name, c in sorted(load_cursors(_state_dir()).items())])


@bp.get("/users")
@requires("admin")
def users():
    store = services().users
    return jsonify(users=[{"name": name, "role": user.role, "has_password": user.password_hash is not None,
                           "created_at": user.created_at} for name, user in sorted(store.all().items())],
                   tokens=[{"name": name, "role": token.role, "created_at": token.created_at}
                           for name, token in sorted(store.tokens().items())])


@bp.get("/audit")
@requires("admin")
def audit():
    return jsonify(items=services().audit.tail(_number("limit", 200, 10_000)))
