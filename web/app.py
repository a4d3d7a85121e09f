"""The application factory: everything a view needs is made here and kept in
``app.extensions["minerwatch"]``; nothing lives in a module global."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from appliance.config import Config
from web import api, auth, health, pages, security
from web.audit import AuditLog
from web.changes import Changes
from web.discovery_runs import Discoveries
from web.auth.guard import identify
from web.auth.limiter import LoginLimiter
from web.files import WebFileError, make_web_dir, secret_key
from web.metrics import metrics_blueprint
from web.users import Users

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    config: Config
    state_dir: Path
    users: Users
    audit: AuditLog
    limiter: LoginLimiter
    csrf: CSRFProtect
    changes: Changes  # what people change, for the commander to apply
    discoveries: Discoveries  # the scan a person started from the Discovery page


DEFAULTS = {
    "SESSION_COOKIE_NAME": "minerwatch_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",  # Strict would drop the session when following a link from an alert mail
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "WTF_CSRF_CHECK_DEFAULT": False,  # checked in identify(), which knows a bearer request needs none
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "MAX_CONTENT_LENGTH": 64 * 1024,  # a login form, never an upload
    "LOGIN_FAILURES_PER_ADDRESS": 20,
    "LOGIN_FAILURES_PER_USER": 5,
    "LOGIN_WINDOW_S": 300.0,
}


def create_app(config: Config, test_config: Mapping[str, Any] | None = None) -> Flask:
    """The web for the commander configured by ``config``; ``test_config`` overrides Flask settings."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(test_config or {})
    make_web_dir(config.state_dir)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or secret_key(config.state_dir)
    app.session_interface = security.SessionCookies()
    app.json.sort_keys = False  # keys in the order the API documents them

    users = Users(config.state_dir)
    audit = AuditLog(config.state_dir)
    created, initial = users.seed(config.web)
    for name in created:
        audit.record("minerwatch web", "user_added", "config", user=name, role=users.get(name).role)
    if initial is not None:
        name, path = initial
        audit.record("minerwatch web", "initial_password", "config", user=name)
        log.warning("no admin could sign in: the password of web user %s was written to %s", name, path)
    csrf = CSRFProtect(app)
    app.extensions["minerwatch"] = Services(
        config, config.state_dir, users, audit,
        LoginLimiter(app.config["LOGIN_FAILURES_PER_ADDRESS"], app.config["LOGIN_FAILURES_PER_USER"],
                     app.config["LOGIN_WINDOW_S"]), csrf, Changes(config.state_dir, audit),
        Discoveries(config))

    app.before_request(identify)
    app.after_request(security.headers)
    app.register_error_handler(HTTPException, security.http_error)
    app.register_error_handler(WebFileError, security.unusable)
    app.register_error_handler(Exception, security.unexpected)
    for blueprint in (auth.bp, api.bp, health.bp, metrics_blueprint(config.state_dir)):
        app.register_blueprint(blueprint)
    pages.register(app)
    if config.web.trusted_proxy:
        app.wsgi_app = security.FromProxy(app.wsgi_app, config.web.trusted_proxy)
    return app
