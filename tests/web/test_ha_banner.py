"""The HA role on every page: a BACKUP says so plainly and links to the pair's virtual IP
([web] vip_url), where the MASTER answers; a MASTER shows no banner."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError, load
from tests.web.conftest import login, web_config
from web import create_app
from web.users import Users


def signed_in_page(tmp_path, state, role: str | None, web: str = "") -> str:
    tmp_path.mkdir(exist_ok=True)
    role_file = tmp_path / "ha-role"
    if role is not None:
        role_file.write_text(f"{role}\n")
    config = load(web_config(tmp_path, state, f'[alerts]\nha_role_file = "{role_file}"\n{web}'))
    app = create_app(config, {"TESTING": True})
    users = Users(state)
    password = users.passwd("watcher") if users.get("watcher") else users.add("watcher", "viewer")
    client = app.test_client()
    assert login(client, "watcher", password).status_code == 302
    return client.get("/miners").get_data(as_text=True)


def test_a_backup_says_so_and_links_to_the_virtual_ip(tmp_path, state):
    page = signed_in_page(tmp_path, state, "BACKUP", '[web]\nvip_url = "https://10.0.0.10:8443/"\n')
    assert "This commander is the <strong>BACKUP</strong> of its pair" in page
    assert 'the master answers at\n    <a href="https://10.0.0.10:8443/">https://10.0.0.10:8443/</a>' in page


def test_a_backup_without_a_virtual_ip_still_says_so(tmp_path, state):
    page = signed_in_page(tmp_path, state, "STOP")
    assert "This commander is the <strong>BACKUP</strong> of its pair" in page and "the master answers at" not in page


def test_a_master_or_a_single_commander_shows_no_banner(tmp_path, state):
    assert "of its pair" not in signed_in_page(tmp_path, state, "MASTER", '[web]\nvip_url = "https://10.0.0.10/"\n')
    assert "of its pair" not in signed_in_page(tmp_path / "single", state, None)


def test_a_virtual_ip_that_is_no_address_is_a_mistake_on_its_line(tmp_path, state):
    path = web_config(tmp_path, state, '[web]\nvip_url = "10.0.0.10"\n')
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4: 'vip_url' in [web] must be an http:// or https:// address (https://10.0.0.10:8443/), "
        "not the string '10.0.0.10'"]
