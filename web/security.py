"""What every response carries and how every error looks: security headers, the session cookie,
and error pages that never show a stack trace (JSON under /api, a plain page elsewhere)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

HEADERS = {
    # Scripts, styles, images and fonts from this origin only: no inline script, no CDN.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class FromProxy:
    """X-Forwarded-For and X-Forwarded-Proto believed on requests from [web] trusted_proxy, and from it
    alone: they give the client's address (rate limits, audit log) and https (Secure cookies). From any
    other address they are a client's claim, and ignored."""

    def __init__(self, app: WSGIApplication, proxy: str) -> None:
        self.direct, self.proxied, self.proxy = app, ProxyFix(app, x_for=1, x_proto=1), proxy

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self.proxied if environ.get("REMOTE_ADDR") == self.proxy else self.direct
        return app(environ, start_response)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request came over TLS (directly or, with [web]
    trusted_proxy, through the proxy), so the same web works behind TLS and on plain HTTP."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/") or response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")  # what a user saw stays theirs
    return response


def _answer(code: int, name: str, sentence: str):
    if request.path.startswith("/api/"):
        return jsonify(error=sentence), code
    return render_template("error.html", code=code, name=name, sentence=sentence), code


def http_error(exc: HTTPException):
    if isinstance(exc, CSRFError):
        return _answer(400, "Bad Request", f"the form's CSRF token is missing or wrong ({exc.description}); "
                                           "reload the page and try again")
    sentence = exc.description if exc.code != 500 else InternalServerError.description
    return _answer(exc.code or 500, exc.name, sentence)


def unusable(exc: Exception):
    """A file of the web's own (users.json, tokens.json) that cannot be read: its sentence."""
    log.error("%s", exc)
    return _answer(503, "Service Unavailable", str(exc))


def unexpected(exc: Exception):
    """A bug: the traceback goes to the log, the client gets one sentence."""
    log.exception("%s %s failed", request.method, request.path)
    return _answer(500, "Internal Server Error", "something went wrong on the appliance; the web's log says what")
