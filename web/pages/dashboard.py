"""The farm dashboard (``/``): the figures of ``dashboard_view.summary`` in a fragment that htmx
fetches again every 10 s (``/dashboard/live``), and a chart of the last day per algorithm that
``minerwatch.js`` draws from ``GET /api/v1/farm/history``."""

from __future__ import annotations

from flask import Blueprint, render_template

from web import dashboard_view
from web.auth.guard import requires, services
from web.farm_view import Unavailable

bp = Blueprint("dashboard", __name__)


def _figures() -> dict:
    """The summary, or why there is none yet: the page stays up and fills in once the commander
    has written what it needs (the fragment keeps asking)."""
    try:
        return {"summary": dashboard_view.summary(services().state_dir), "unavailable": None}
    except Unavailable as exc:
        return {"summary": None, "unavailable": str(exc)}


@bp.get("/")
@requires("viewer")
def index():
    return render_template("pages/dashboard.html", **_figures())


@bp.get("/dashboard/live")
@requires("viewer")
def live():
    return render_template("fragments/dashboard.html", **_figures())
