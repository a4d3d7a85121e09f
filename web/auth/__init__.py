"""Signing in and out: the login page, logout, and the signed-in user's own page."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from web.auth.guard import local_path, services
from web.users import fingerprint

bp = Blueprint("auth", __name__)


def client() -> str:
    """The client's address (the proxy's X-Forwarded-For when [web] trusted_proxy names it:
    security.FromProxy puts it in REMOTE_ADDR)."""
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = local_path(request.args.get("next"), url_for("dashboard.index"))
    if request.method == "GET":
        return render_template("login.html", error=None)
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    app = services()
    refused = app.limiter.refused(client(), name)
    if refused:
        app.audit.record(name or None, "login_refused", client(), reason=refused)
        return render_template("login.html", error=refused), 429
    user = app.users.check_password(name, password) if name and password else None
    if user is None:
        app.limiter.failed(client(), name)
        app.audit.record(name or None, "login_failed", client())
        return render_template("login.html", error="wrong user name or password"), 401
    session.clear()  # a new session, so a cookie planted before the login is worth nothing after it
    session.permanent = True
    session.update(user=name, pw=fingerprint(user.password_hash))
    app.audit.record(name, "login", client())
    return redirect(target)


@bp.post("/logout")
def logout():
    services().audit.record(g.identity.name, "logout", client())
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/account")
def account():
    return render_template("account.html", identity=g.identity)
