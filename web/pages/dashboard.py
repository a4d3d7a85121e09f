"""Dashboard page."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth.guard import requires

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@requires("viewer")
def index():
    return render_template("pages/placeholder.html", title="Dashboard")
