"""The Commander page (``/commander``): the commander's health as ``minerwatch status`` judges it
(its jobs, alert channels and ASIC sentries, what fails), the store's size; for admins, the
effective configuration (no secret shown), the users and API tokens, and the audit log."""

from __future__ import annotations

import json

from flask import Blueprint, g, render_template

from web import commander_view
from web.auth.guard import requires, services

bp = Blueprint("commander", __name__)
AUDIT_LINES = 200


@bp.get("/commander")
@requires("viewer")
def index():
    app = services()
    admin = g.identity.role == "admin"
    return render_template(
        "pages/commander.html", health=commander_view.health(app.state_dir),
        store=commander_view.store_size(app.state_dir), admin=admin,
        config=json.dumps(commander_view.effective_config(app.config), indent=2) if admin else None,
        users=sorted(app.users.all().items()) if admin else [], tokens=sorted(app.users.tokens().items()) if admin else [],
        audit=list(reversed(app.audit.tail(AUDIT_LINES))) if admin else [])
