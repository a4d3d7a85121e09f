"""Who may talk to whom, through the real API and the commander's real pull (in this process,
over TLS on loopback): the sentry answers the farm's commander only (not a client without a
certificate, with another CA's, or with an expired one), and the commander reads a sentry only
if its certificate is the one pinned, else it says so and raises the sentry's alert."""

from __future__ import annotations

import datetime as dt
import ssl
import time

import httpx
import pytest

from appliance.commander import Commander
from appliance.config import load
from appliance.pki import init, issue, issued, pki_dir
from appliance.tls import server_context
from asic_sentry.api import Api
from asic_sentry.buffer import Buffer
from tests.appliance.test_commander import write_config
from tests.asic_sentry.test_service import link_section


@pytest.fixture
def farm_pki(tmp_path):
    state = tmp_path / "commander" / "state"
    init(state, "test")
    for name in ("north", "south"):
        issue(state, name, "sentry", ["127.0.0.1"])
    issue(state, "commander", "commander", [])
    return state


@pytest.fixture
def north(farm_pki, tmp_path):
    """North's sentry API over a buffer of two cycles."""
    pki = pki_dir(farm_pki)
    buffer = Buffer(tmp_path / "north" / "buffer", max_bytes=10**9, reserve_bytes=0)
    for c in range(2):
        buffer.append(time.time() - 60 + 30 * c, [{"ip": "10.9.0.1", "port": 4028, "reachable": True,
                                                   "hashrate_hs": 1e14, "mac": "02:00:00:00:00:01"}])
    api = Api(("127.0.0.1", 0), server_context(str(pki / "issued" / "north.crt"), str(pki / "issued" / "north.key"),
                                          str(pki / "ca.crt")), buffer, lambda: {"buffer": buffer.stats()})
    api.start()
    yield api
    api.stop()


def client(ca_state, cert_state=None, name=None) -> httpx.Client:
    context = ssl.create_default_context(cafile=pki_dir(ca_state) / "ca.crt")
    if name:
        context.load_cert_chain(pki_dir(cert_state) / "issued" / f"{name}.crt",
                                pki_dir(cert_state) / "issued" / f"{name}.key")
    return httpx.Client(verify=context, timeout=10)


def test_the_sentry_answers_the_farms_commander_and_nobody_else(farm_pki, north, tmp_path):
    url = f"https://127.0.0.1:{north.port}/v1/status"
    assert client(farm_pki, farm_pki, "commander").get(url).json()["buffer"]["cycles"] == 2
    other = tmp_path / "other"
    init(other, "other")
    issue(other, "commander", "commander", [])
    expired = tmp_path / "expired"
    pki_dir(expired).mkdir(parents=True)
    for name in ("ca.crt", "ca.key"):
        (pki_dir(expired) / name).write_bytes((pki_dir(farm_pki) / name).read_bytes())
    issue(expired, "commander", "commander", [], days=1, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    for refused in (client(farm_pki), client(farm_pki, other, "commander"), client(farm_pki, expired, "commander")):
        with pytest.raises(httpx.TransportError):
            refused.get(url)


async def test_a_sentry_whose_certificate_is_not_the_pinned_one_is_not_read(farm_pki, north, tmp_path):
    south = next(made for made in issued(farm_pki) if made.name == "south").fingerprint
    path = write_config(tmp_path / "commander", "127.0.0.1", extra="[alerts.rules.asic_sentry_unreachable]\n"
                        "threshold = 1\n" + link_section("north", north.port, south))
    async with Commander(load(path)) as commander:
        outcome = await commander.pull_asic_sentries()
        cursor = commander.asic_cursors["north"]
        firing = [a.id for a in commander.alerts.engine.firing()]
    assert (outcome.ok, outcome.failed) == (0, 1)
    assert cursor.seq == 0 and cursor.error.startswith("ASIC sentry north at https://127.0.0.1:") and \
        cursor.error.endswith(f", not the pinned {south}: nothing is read from it")
    assert firing == ["asic-sentry:north/asic_sentry_unreachable"]
    assert not (farm_pki / "metrics").exists()
