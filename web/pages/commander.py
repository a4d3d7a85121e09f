"""The Commander page (``/commander``): the commander's health as ``minerwatch status`` judges it
(its jobs, alert channels and ASIC sentries, what fails), the store's size; for admins, the
effective configuration (no secret shown), the users and API tokens (add a user, give a new
password, create or revoke a token: a password or token is shown once, on the answer to the
form that made it, and kept only hashed), and the audit log."""

from __future__ import annotations

import json
import re

from flask import Blueprint, abort, g, render_template, request

from appliance.config import ROLES
from web import commander_view
from web.auth import client
from web.auth.guard import requires, services
from web.users import UserError

bp = Blueprint("commander", __name__)
AUDIT_LINES = 200
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _page(secret: dict | None = None, error: str | None = None, status: int = 200):
    app = services()
    admin = g.identity.role == "admin"
    return render_template(
        "pages/commander.html", health=commander_view.health(app.state_dir),
        store=commander_view.store_size(app.state_dir), admin=admin, roles=ROLES, secret=secret, error=error,
        config=json.dumps(commander_view.effective_config(app.config), indent=2) if admin else None,
        users=sorted(app.users.all().items()) if admin else [], tokens=sorted(app.users.tokens().items()) if admin else [],
        audit=list(reversed(app.audit.tail(AUDIT_LINES))) if admin else []), status


@bp.get("/commander")
@requires("viewer")
def index():
    return _page()


def _name(field: str = "name") -> str:
    name = request.form.get(field, "").strip()
    if not _NAME.fullmatch(name):
        abort(400, f"{field}: letters, digits, '.', '_' and '-', at most 64")
    return name


def _role() -> str:
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400, f"role must be one of {', '.join(ROLES)}")
    return role


def _done(what: str, name: str, make, shown: str | None, **detail):
    """Run ``make()`` on the users; audit it; the page, with the secret it made shown once."""
    app = services()
    try:
        secret = make()
    except UserError as exc:
        return _page(error=str(exc), status=409)
    app.audit.record(g.identity.name, what, client(), name=name, **detail)
    return _page(secret={"what": shown, "name": name, "value": secret} if shown else None)


@bp.post("/commander/users")
@requires("admin")
def add_user():
    name, role = _name(), _role()
    return _done("user_added", name, lambda: services().users.add(name, role), "password", role=role)


@bp.post("/commander/users/passwd")
@requires("admin")
def new_password():
    name = _name()
    return _done("password_changed", name, lambda: services().users.passwd(name), "password")


@bp.post("/commander/tokens")
@requires("admin")
def create_token():
    name, role = _name(), _role()
    return _done("token_created", name, lambda: services().users.create_token(name, role), "API token", role=role)


@bp.post("/commander/tokens/revoke")
@requires("admin")
def revoke_token():
    name = _name()
    return _done("token_revoked", name, lambda: services().users.revoke_token(name), None)
