"""The web's tests: a state directory a real commander filled over simfarm (made once, copied for
each test), the app, its test client, users of each role, and every API answer held to the
OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from appliance.commander import Commander
from appliance.config import load
from appliance.health import Health, JobHealth
from simfarm.farm import Farm
from tests.appliance.test_commander import write_config
from tests.simfarm.conftest import free_base
from web import create_app
from web.users import Users

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "web" / "api" / "openapi.json").read_text())


async def fill(root: Path, miners: int = 9, seed: int = 11) -> tuple[list[str], Path]:
    """A commander's discovery and two poll cycles over an emulated farm, the first miner
    overheating in the second; returns the farm's addresses and the commander's configuration."""
    async with Farm(miners=miners, mix={"antminer": 1, "whatsminer": 1, "avalon": 1}, base=free_base(), seed=seed,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        path = write_config(root, f"{ips[0]}-{ips[-1]}")
        async with Commander(load(path), web_port=farm.web_port) as commander:
            await commander.scheduler.run_now("discovery", commander.discover)
            await commander.scheduler.run_now("poll", commander.poll_cycle)
            await farm.inject(ips[0], "overheating")
            await commander.scheduler.run_now("poll", commander.poll_cycle)
    return ips, path


@pytest.fixture(scope="session")
def filled(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("filled")
    ips, _ = asyncio.run(fill(root))
    return root / "state", ips


@pytest.fixture
def state(filled, tmp_path) -> Path:
    """A copy of the filled state directory, this test's to change."""
    return Path(shutil.copytree(filled[0], tmp_path / "state"))


def web_config(root: Path, state: Path, web: str = "") -> Path:
    path = root / "web.toml"
    path.write_text(f'[commander]\nstate_dir = "{state}"\n{web}')
    secrets = root / "secrets.toml"
    secrets.write_text("")
    os.chmod(secrets, 0o600)
    return path


@pytest.fixture
def app(state, tmp_path):
    return create_app(load(web_config(tmp_path, state)), {"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def passwords(app, state) -> dict[str, str]:
    """A user of each role (the admin's is the generated initial password)."""
    users = Users(state)
    return {"admin": (state / "web" / "initial-admin-password").read_text().strip(),
            "operator": users.add("olga", "operator"), "viewer": users.add("victor", "viewer")}


NAMES = {"admin": "admin", "operator": "olga", "viewer": "victor"}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def login(client, name: str, password: str, address: str = "127.0.0.1"):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def signed_in(app, passwords):
    """A test client signed in with ``role``."""
    def make(role: str):
        client = app.test_client()
        assert login(client, NAMES[role], passwords[role]).status_code == 302
        return client
    return make


def fresh_health(state: Path, age_s: float = 0.0, **fields) -> None:
    """health.json as a commander running in this process writes it, ``age_s`` ago."""
    health = Health(jobs={"poll": JobHealth(interval_s=30)}, **fields)
    (state / "health.json").write_text(json.dumps(asdict(health) | {"written_at": time.time() - age_s}))


def checked(response, path: str, method: str = "get"):
    """``response``, after holding its JSON to what openapi.json says for ``path`` and its status."""
    operation = OPENAPI["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method.upper()} {path} answered {response.status_code}, which is not documented"
    schema = documented["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": OPENAPI["components"]}).validate(response.get_json())
    return response
