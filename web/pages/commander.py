"""Commander page."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth.guard import requires

bp = Blueprint("commander", __name__)


@bp.get("/commander")
@requires("viewer")
def index():
    return render_template("pages/placeholder.html", title="Commander")
