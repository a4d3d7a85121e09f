"""The Commander page over a state a real commander left: its health as ``minerwatch status``
judges it for everyone; the configuration (no secret in it), users, tokens and audit log for admins."""

from __future__ import annotations

import json
import os
import re

from appliance.config import load
from tests.web.conftest import NAMES, csrf_token, fresh_health, login
from web import create_app
from web.users import Users

SECRETS = ("miner-pass-7", "community-9", "https://hooks.example/T0KEN")


def test_everyone_sees_the_health_and_only_admins_the_rest(signed_in, state):
    fresh_health(state)
    viewer = signed_in("viewer").get("/commander").get_data(as_text=True)
    assert "commander running" in viewer and "<td>poll</td>" in viewer and "Raw samples" in viewer
    assert "data-config" not in viewer and "data-audit" not in viewer and "data-users" not in viewer
    admin = signed_in("admin").get("/commander").get_data(as_text=True)
    assert "data-config" in admin and "olga" in admin and "victor" in admin
    assert "login" in admin.split("data-audit", 1)[1]  # the sign-ins of this test, newest first


def test_the_configuration_shows_no_secret(state, tmp_path):
    config = tmp_path / "commander.toml"
    config.write_text(f'[commander]\nstate_dir = "{state}"\n[credentials.antminer]\nusername = "root"\n'
                      '[[sentries]]\nhost = "10.0.5.1"\n[[channels]]\nname = "ops"\ntype = "webhook"\n')
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[credentials.antminer]\npassword = "{SECRETS[0]}"\n[snmp]\ncommunity = "{SECRETS[1]}"\n'
                       f'[channels.ops]\nurl = "{SECRETS[2]}"\n')
    os.chmod(secrets, 0o600)
    app = create_app(load(config), {"TESTING": True})
    client = app.test_client()
    password = (state / "web" / "initial-admin-password").read_text().strip() if (
        state / "web" / "initial-admin-password").exists() else Users(state).passwd(NAMES["admin"])
    assert login(client, "admin", password).status_code == 302
    page = client.get("/commander").get_data(as_text=True)
    assert "root" in page and "10.0.5.1" in page and "(secret: not shown)" in page
    for secret in SECRETS:
        assert secret not in page


def test_an_admin_manages_users_and_tokens_each_secret_shown_once(app, signed_in, state):
    admin = signed_in("admin")
    token = csrf_token(admin.get("/commander").get_data(as_text=True))
    made = admin.post("/commander/users", data={"name": "night", "role": "operator", "csrf_token": token})
    page = made.get_data(as_text=True)
    password = re.search(r"The password of night: <code>([^<]+)</code>", page)[1]
    assert password not in admin.get("/commander").get_data(as_text=True)  # never shown again
    assert login(app.test_client(), "night", password).status_code == 302
    again = admin.post("/commander/users", data={"name": "night", "role": "viewer", "csrf_token": token})
    assert again.status_code == 409 and "user night already exists" in again.get_data(as_text=True)
    created = admin.post("/commander/tokens", data={"name": "grafana", "role": "viewer", "csrf_token": token})
    bearer = re.search(r"The API token of grafana: <code>([^<]+)</code>", created.get_data(as_text=True))[1]
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200
    assert admin.post("/commander/tokens/revoke", data={"name": "grafana", "csrf_token": token}).status_code == 200
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"}).status_code == 401
    audit = [json.loads(line) for line in (state / "web" / "audit.jsonl").read_text().splitlines()]
    assert [(e["who"], e["what"], e.get("name")) for e in audit if e["who"] == "admin" and e["what"] in (
        "user_added", "token_created", "token_revoked")] == [
        ("admin", "user_added", "night"), ("admin", "token_created", "grafana"), ("admin", "token_revoked", "grafana")]
    assert password not in (state / "web" / "audit.jsonl").read_text() and bearer not in (
        state / "web" / "audit.jsonl").read_text()


def test_only_an_admin_with_a_csrf_token_changes_users(signed_in, state):
    operator, admin = signed_in("operator"), signed_in("admin")
    token = csrf_token(operator.get("/commander").get_data(as_text=True))
    assert operator.post("/commander/users", data={"name": "x", "role": "admin", "csrf_token": token}).status_code == 403
    assert admin.post("/commander/users", data={"name": "x", "role": "admin"}).status_code == 400
    bad = admin.post("/commander/users", data={"name": "../x", "role": "admin",
                                                "csrf_token": csrf_token(admin.get("/commander").get_data(as_text=True))})
    assert bad.status_code == 400
    assert "x" not in Users(state).all()
