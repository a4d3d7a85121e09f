"""The Commander page over a state a real commander left: its health as ``minerwatch status``
judges it for everyone; the configuration (no secret in it), users, tokens and audit log for admins."""

from __future__ import annotations

import os

from appliance.config import load
from tests.web.conftest import NAMES, fresh_health, login
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
