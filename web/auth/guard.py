"""Who is asking: a browser session or an API token, checked before every request; and the
decorator that asks for a role.

Every route needs a signed-in user unless it is listed in ``PUBLIC`` (the login page, /healthz,
static files): a new route is closed until someone opens it on purpose. A bearer token counts on
the routes programs call (/api, /metrics) only; a request that carries one is exempt from CSRF,
since a browser never adds it by itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g, redirect, request, session, url_for

from web.users import RANK, fingerprint

PUBLIC = {"auth.login", "health.healthz", "static"}


def _for_programs(path: str) -> bool:
    """A route a program calls (an API client, a Prometheus server): a token may open it, and a
    refusal is a 401 to read, not a redirect to the login page."""
    return path.startswith("/api/") or path == "/metrics"


@dataclass(frozen=True)
class Identity:
    name: str  # the user, or "token:<name>"
    role: str
    by_token: bool


def services():
    return current_app.extensions["minerwatch"]


def identify() -> Response | None:
    """``before_request``: set ``g.identity``, refuse what is not allowed, and check CSRF for the rest."""
    g.identity = None
    header = request.headers.get("Authorization", "")
    if header and _for_programs(request.path):
        scheme, _, token = header.partition(" ")
        found = services().users.check_token(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            abort(401, "the bearer token is not valid")
        g.identity = Identity(f"token:{found[0]}", found[1].role, True)
        return  # no cookie, so no CSRF to fear
    name = session.get("user")
    user = services().users.get(name) if name else None
    if user is not None and session.get("pw") == fingerprint(user.password_hash):
        g.identity = Identity(name, user.role, False)
    elif name:
        session.clear()  # the user is gone or has a new password
    services().csrf.protect()
    if g.identity is None and request.endpoint not in PUBLIC:
        if _for_programs(request.path):
            abort(401, "sign in, or send Authorization: Bearer <token>")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def requires(role: str) -> Callable:
    """The least role a view needs (viewer < operator < admin)."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.identity is None or RANK[g.identity.role] < RANK[role]:
                abort(403, f"this needs the {role} role")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def local_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``: ?next= never leads elsewhere."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target
