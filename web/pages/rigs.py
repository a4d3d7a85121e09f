"""A rig's page: its GPUs by PCI bus id, its CPU, each mining program, and history charts."""

from __future__ import annotations

from flask import Blueprint, render_template

from web import history, lookup
from web.auth.guard import requires, services

bp = Blueprint("rigs", __name__)


@bp.get("/rigs/<key>")
@requires("viewer")
def page(key: str):
    return render_template("pages/rig.html", rig=lookup.rig(services().state_dir, key), ranges=history.RANGES)
