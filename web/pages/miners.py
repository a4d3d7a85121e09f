"""Miners page."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth.guard import requires

bp = Blueprint("miners", __name__)


@bp.get("/miners")
@requires("viewer")
def index():
    return render_template("pages/placeholder.html", title="Miners")
