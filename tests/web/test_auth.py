"""Signing in and the attacks on it: wrong passwords, guessing (rate limits), cross-site forms
(CSRF), a viewer reaching for an admin's page, forged tokens; and what every answer carries."""

from __future__ import annotations

import json
import re
import stat

import pytest
from argon2 import PasswordHasher

from appliance.config import load
from tests.web.conftest import NAMES, checked, csrf_token, login, web_config
from web import create_app
from web.files import WebFileError
from web.users import Users


def test_first_start_writes_the_admin_password_once_for_this_user_alone(app, state, caplog):
    path = state / "web" / "initial-admin-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for name in ("users.json", "secret-key"):
        assert stat.S_IMODE((state / "web" / name).stat().st_mode) == 0o600
    users = json.loads((state / "web" / "users.json").read_text())["users"]
    assert users["admin"]["role"] == "admin"
    assert path.read_text().strip() not in (state / "web" / "users.json").read_text()  # a hash, not the password
    assert users["admin"]["password_hash"].startswith("$argon2id$")


def test_login_and_logout(client, passwords, state):
    assert client.get("/account").status_code == 302
    answer = login(client, "admin", passwords["admin"])
    assert (answer.status_code, answer.location) == (302, "/")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS it is Secure (test below)
    page = client.get("/account").get_data(as_text=True)
    assert "Signed in as <strong>admin</strong>" in page
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert client.get("/account").status_code == 302
    audit = [json.loads(line) for line in (state / "web" / "audit.jsonl").read_text().splitlines()]
    assert [(e["who"], e["what"], e["from"]) for e in audit[-2:]] == [
        ("admin", "login", "127.0.0.1"), ("admin", "logout", "127.0.0.1")]


def test_the_session_cookie_is_secure_over_tls(client, passwords):
    token = csrf_token(client.get("/login", base_url="https://farm.example").get_data(as_text=True))
    form = {"username": "admin", "password": passwords["admin"], "csrf_token": token}
    # Over TLS the form must also come from this site's own page (Flask-WTF's strict referrer check).
    assert client.post("/login", base_url="https://farm.example", data=form).status_code == 400
    answer = client.post("/login", base_url="https://farm.example", data=form,
                         headers={"Referer": "https://farm.example/login"})
    assert "Secure" in answer.headers["Set-Cookie"]


def test_a_wrong_password_is_refused_and_audited(client, passwords, state):
    answer = login(client, "admin", passwords["admin"] + "x")
    assert answer.status_code == 401
    assert "wrong user name or password" in answer.get_data(as_text=True)
    assert login(client, "nobody", "whatever").status_code == 401
    assert client.get("/account").status_code == 302
    last = json.loads((state / "web" / "audit.jsonl").read_text().splitlines()[-1])
    assert (last["who"], last["what"]) == ("nobody", "login_failed")


def test_guessing_one_users_password_trips_the_limit_even_with_the_right_one(client, passwords):
    for _ in range(5):
        assert login(client, "victor", "guess", address="10.9.9.9").status_code == 401
    refused = login(client, "victor", passwords["viewer"], address="10.9.9.10")
    assert refused.status_code == 429
    assert "too many failed logins for this user" in refused.get_data(as_text=True)
    assert login(client, "olga", passwords["operator"], address="10.9.9.10").status_code == 302


def test_guessing_from_one_address_trips_its_limit(app, passwords):
    client = app.test_client()
    for n in range(20):
        assert login(client, f"user{n}", "guess", address="10.8.8.8").status_code == 401
    assert login(client, "admin", passwords["admin"], address="10.8.8.8").status_code == 429
    assert login(client, "admin", passwords["admin"], address="10.8.8.9").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(client, signed_in, passwords):
    answer = client.post("/login", data={"username": "admin", "password": passwords["admin"]})
    assert answer.status_code == 400 and "CSRF token is missing" in answer.get_data(as_text=True)
    victim = signed_in("viewer")
    # A page elsewhere posting to /logout with the victim's cookie, but without the token it cannot read.
    assert victim.post("/logout").status_code == 400
    assert victim.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert victim.get("/account").status_code == 200  # still signed in


def test_a_viewer_is_refused_an_admins_page(signed_in):
    viewer, admin = signed_in("viewer"), signed_in("admin")
    refused = checked(viewer.get("/api/v1/users"), "/users")
    assert (refused.status_code, refused.json) == (403, {"error": "this needs the admin role"})
    assert checked(viewer.get("/api/v1/audit"), "/audit").status_code == 403
    users = checked(admin.get("/api/v1/users"), "/users").json["users"]
    assert {(u["name"], u["role"]) for u in users} == {("admin", "admin"), ("olga", "operator"), ("victor", "viewer")}
    assert checked(admin.get("/api/v1/audit"), "/audit").json["items"][-1]["what"] == "login"


def test_a_bearer_token_works_and_a_bad_one_is_refused(app, state):
    token = Users(state).create_token("grafana", "viewer")
    client = app.test_client()
    me = checked(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), "/me")
    assert me.json == {"name": "token:grafana", "role": "viewer"}
    assert checked(client.get("/api/v1/farm", headers={"Authorization": f"Bearer {token}"}), "/farm").status_code == 200
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    for header in (f"Bearer {token}x", "Bearer ", f"Basic {token}"):
        refused = checked(client.get("/api/v1/me", headers={"Authorization": header}), "/me")
        assert (refused.status_code, refused.json) == (401, {"error": "the bearer token is not valid"})
    assert checked(client.get("/api/v1/farm"), "/farm").status_code == 401
    tokens = json.loads((state / "web" / "tokens.json").read_text())["tokens"]
    assert token not in json.dumps(tokens)  # only its hash is kept


def test_a_new_password_ends_the_old_sessions(signed_in, state):
    viewer = signed_in("viewer")
    Users(state).passwd(NAMES["viewer"])
    assert viewer.get("/api/v1/me").status_code == 401


def test_every_answer_carries_the_security_headers(client, signed_in):
    for answer in (client.get("/login"), client.get("/healthz"), signed_in("viewer").get("/api/v1/farm"),
                   client.get("/no/such/page")):
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
    login_page = client.get("/login").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", login_page) == ['<script src="/static/theme.js">']  # no inline script


def test_a_crash_shows_no_traceback(app, signed_in, caplog):
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/broken", "broken", broken)
    app.add_url_rule("/broken", "broken_page", broken)
    client = signed_in("viewer")
    api = client.get("/api/v1/broken")
    assert (api.status_code, api.json) == (500, {"error": "something went wrong on the appliance; the web's log says what"})
    page = client.get("/broken")
    assert page.status_code == 500
    for text in (api.get_data(as_text=True), page.get_data(as_text=True)):
        assert "Traceback" not in text and "secret internals" not in text
    assert "secret internals" in caplog.text  # the log has it


def test_next_never_leads_off_the_site(client, passwords):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = csrf_token(client.get("/login").get_data(as_text=True))  # signing in starts a new session
        answer = client.post(f"/login?next={target}",
                             data={"username": "admin", "password": passwords["admin"], "csrf_token": token})
        assert answer.location == "/"


def test_a_damaged_users_file_is_one_sentence_at_start_and_while_serving(signed_in, state, tmp_path):
    viewer = signed_in("viewer")
    users = state / "web" / "users.json"
    users.write_text('{"version": 1, "users": {"admin": {"role": 7}}}')
    answer = viewer.get("/api/v1/me")
    assert (answer.status_code, answer.json) == (503, {"error": f"{users} is damaged (users.admin.role: input should "
                                                                "be a valid string); fix it or move it away and "
                                                                "start again"})
    assert "Traceback" not in viewer.get("/account").get_data(as_text=True)
    with pytest.raises(WebFileError, match=f"^{users} is damaged"):
        create_app(load(web_config(tmp_path, state)))


def test_configured_users_are_seeded_once(state, tmp_path):
    config = web_config(tmp_path, state, '[[web.users]]\nname = "ops"\nrole = "admin"\n'
                                         '[[web.users]]\nname = "bob"\nrole = "viewer"\n')
    (tmp_path / "secrets.toml").write_text(f'[web.users.ops]\npassword_hash = "{PasswordHasher().hash("pw-of-ops")}"\n')
    app = create_app(load(config), {"TESTING": True})
    users = Users(state)
    assert users.check_password("ops", "pw-of-ops") is not None
    assert users.get("bob").password_hash is None  # none given: none until `minerwatch user passwd bob`
    assert not (state / "web" / "initial-admin-password").exists()  # ops, an admin, can sign in
    client = app.test_client()
    assert login(client, "bob", "").status_code == 401
    assert login(client, "ops", "pw-of-ops").status_code == 302


def test_metrics_are_served_to_a_token_and_to_nobody_without_one(app, state):
    token = Users(state).create_token("prometheus", "viewer")
    client = app.test_client()
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scraped.status_code == 200 and scraped.content_type.startswith("text/plain; version=0.0.4")
    assert "minerwatch_miner_up{" in scraped.get_data(as_text=True)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
