"""Farm map page."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth.guard import requires

bp = Blueprint("farm_map", __name__)


@bp.get("/map")
@requires("viewer")
def index():
    return render_template("pages/placeholder.html", title="Farm map")
