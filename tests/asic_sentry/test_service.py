"""``minerwatch asic-sentry`` as a real process over a simfarm site on loopback: it discovers and
polls the site, keeps every cycle in its buffer, and serves them over mutual TLS to a client with
the farm's commander certificate (made by ``minerwatch pki``), in order from any cursor, through a
restart; a client without a certificate gets nothing."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from appliance.pki import init, issue, pki_dir
from asic_sentry.api import BUFFER_HEADER
from asic_sentry.buffer import listing, read_cycle
from simfarm.farm import Farm
from tests.appliance.test_commander import write_config
from tests.appliance.snmp.conftest import start_farm_snmpd
from tests.conftest import require, until
from tests.net_snmp import mib_args, stop_snmpd
from tests.simfarm.conftest import free_base
from tests.web.test_web_process import free_port

MINERWATCH = [sys.executable, "-m", "appliance.cli"]


def commander_client(pki: Path, port: int) -> httpx.Client:
    context = ssl.create_default_context(cafile=pki / "ca.crt")
    context.load_cert_chain(pki / "issued" / "commander.crt", pki / "issued" / "commander.key")
    return httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context, timeout=10)


def cycles(client: httpx.Client, after: int) -> tuple[str, list[tuple[int, float, list[dict]]]]:
    answer = client.get("/v1/cycles", params={"after": after})
    assert answer.status_code == 200
    table = pa.ipc.open_stream(answer.content).read_all()
    return answer.headers[BUFFER_HEADER], [(seq, at, read_cycle(data)) for seq, at, data in zip(
        table["seq"].to_pylist(), table["polled_at"].to_pylist(), table["cycle"].to_pylist())]


def sentry_section(name: str, port: int, pki: Path) -> str:
    """[asic_sentry] for a sentry on loopback with the certificate ``minerwatch pki`` issued it."""
    issued = pki / "issued"
    return (f'[asic_sentry]\nname = "{name}"\nlisten = "127.0.0.1:{port}"\ntls_cert = "{issued / f"{name}.crt"}"\n'
            f'tls_key = "{issued / f"{name}.key"}"\ntls_ca = "{pki / "ca.crt"}"\n')


def link_section(name: str, port: int, fingerprint: str, site: str | None = None) -> str:
    """[[asic_sentries]] for the commander, and the [[sites]] entry of its site when given."""
    sites = f'[[sites]]\nname = "{site}"\n' if site else ""
    return (f'{sites}[[asic_sentries]]\nname = "{name}"\nurl = "https://127.0.0.1:{port}"\n'
            f'fingerprint = "{fingerprint}"\n' + (f'site = "{site}"\n' if site else ""))


@pytest.fixture
def pki(tmp_path) -> Path:
    init(tmp_path / "commander", "test")
    issue(tmp_path / "commander", "site-north", "sentry", ["127.0.0.1"])
    issue(tmp_path / "commander", "commander", "commander", [])
    return pki_dir(tmp_path / "commander")


async def test_the_sentry_polls_its_site_and_serves_every_cycle_to_the_commander_only(tmp_path, pki):
    port = free_port()
    async with Farm(miners=6, mix={"antminer": 1, "whatsminer": 1, "avalon": 1}, base=free_base(), seed=9,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        path = write_config(tmp_path, f"{ips[0]}-{ips[-1]}", poll_s=1, discovery_s=3600,
                            extra=sentry_section("site-north", port, pki))
        log = tmp_path / "sentry.log"

        def start() -> subprocess.Popen:
            return subprocess.Popen([*MINERWATCH, "asic-sentry", "--config", str(path), "--web-port", "8080"],
                                    stdout=log.open("a"), stderr=subprocess.STDOUT)

        sentry = start()
        try:
            client = commander_client(pki, port)

            def served(least: int) -> bool:
                try:
                    return len(cycles(client, 0)[1]) >= least
                except httpx.TransportError:
                    return False

            await until(lambda: served(3), "three cycles served", limit_s=60)
            buffer_id, got = cycles(client, 0)
            assert [seq for seq, _, _ in got] == list(range(1, len(got) + 1))
            assert all(a < b for (_, a, _), (_, b, _) in zip(got, got[1:]))
            newest = got[-1][2]
            assert sorted(s["ip"] for s in newest) == sorted(ips)
            assert all(s["reachable"] and s["hashrate_hs"] > 0 for s in newest)
            assert [seq for seq, _, _ in cycles(client, 2)[1]][:1] == [3]
            status = client.get("/v1/status").json()
            assert status["name"] == "site-north" and status["buffer"]["newest_seq"] >= 3

            # The site's own snmpd serves the site's miners from the sentry's farm document.
            (tmp_path / "snmpd").mkdir()
            agent = start_farm_snmpd(tmp_path / "snmpd", tmp_path / "state" / "snmp" / "farm.json")
            try:
                walked = agent.query("snmpwalk", "MINERWATCH-MIB::mwMinerAddress", options=mib_args())
            finally:
                stop_snmpd(agent)
            assert walked.returncode == 0, walked.stderr
            assert sorted(line.split("STRING: ")[1].split(":")[0] for line in walked.stdout.splitlines()) == sorted(ips)

            nobody = httpx.Client(verify=ssl.create_default_context(cafile=pki / "ca.crt"), timeout=10)
            with pytest.raises(httpx.TransportError):
                nobody.get(f"https://127.0.0.1:{port}/v1/status")
        finally:
            sentry.send_signal(signal.SIGTERM)
            assert sentry.wait(timeout=30) == 0

        sentry = start()  # a restart keeps the buffer and its numbering
        try:
            last = got[-1][0]
            await until(lambda: served(last + 1), "a cycle after the restart", limit_s=60)
            again_id, after_restart = cycles(client, last)
            assert again_id == buffer_id and after_restart[0][0] == last + 1
        finally:
            sentry.send_signal(signal.SIGTERM)
            assert sentry.wait(timeout=30) == 0
    text = log.read_text()
    assert "minerwatch asic-sentry: site-north polling" in text and "Traceback" not in text
    assert "refused a connection from 127.0.0.1" in text


def test_a_configuration_that_is_not_a_sentrys_or_whose_certificate_is_missing_is_one_sentence(tmp_path):
    path = write_config(tmp_path, "127.0.0.1")
    plain = subprocess.run([*MINERWATCH, "asic-sentry", "--config", str(path)], capture_output=True, text=True,
                           timeout=60)
    assert (plain.returncode, plain.stderr) == (
        2, f"minerwatch: {path} has no [asic_sentry] section: it is not an ASIC sentry's configuration\n")
    path = write_config(tmp_path, "127.0.0.1", extra=f"""
[asic_sentry]
name = "site-north"
listen = "127.0.0.1:{free_port()}"
tls_cert = "{tmp_path / 'none.crt'}"
tls_key = "{tmp_path / 'none.key'}"
tls_ca = "{tmp_path / 'ca.crt'}"
""")
    missing = subprocess.run([*MINERWATCH, "asic-sentry", "--config", str(path)], capture_output=True, text=True,
                             timeout=60)
    assert (missing.returncode, missing.stderr) == (
        1, f"minerwatch: the certificate {tmp_path / 'none.crt'} cannot be read (No such file or directory)\n")
    (tmp_path / "none.crt").write_text("not a certificate")
    for name in ("none.key", "ca.crt"):
        (tmp_path / name).write_text("")
    garbage = subprocess.run([*MINERWATCH, "asic-sentry", "--config", str(path)], capture_output=True, text=True,
                             timeout=60)
    assert garbage.returncode == 1 and garbage.stderr.startswith(
        f"minerwatch: the certificate {tmp_path / 'none.crt'}, its key {tmp_path / 'none.key'} or the farm CA's "
        "certificate") and garbage.stderr.count("\n") == 1


async def test_a_full_disk_keeps_the_sentry_polling_and_it_says_so(tmp_path, pki):
    """The sentry's state on a real 8 MiB file system whose free space falls under the buffer's
    reserve: it drops its oldest cycles, says so once per drop, and goes on polling."""
    require(os.geteuid() == 0, "root, to mount a tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], check=True)
    try:
        async with Farm(miners=3, mix={"antminer": 1}, base=free_base(), seed=29, web_port=8080) as farm:
            ips = list(farm.miners)
            path = write_config(tmp_path, f"{ips[0]}-{ips[-1]}", poll_s=1, discovery_s=3600,
                                extra=sentry_section("site-north", free_port(), pki) + "buffer_reserve_bytes = 6291456\n")
            path.write_text(path.read_text().replace(f'state_dir = "{tmp_path / "state"}"', f'state_dir = "{disk}"'))
            log = tmp_path / "sentry.log"
            sentry = subprocess.Popen([*MINERWATCH, "asic-sentry", "--config", str(path), "--web-port", "8080"],
                                      stdout=log.open("w"), stderr=subprocess.STDOUT)
            try:
                await until(lambda: (disk / "buffer").exists() and len(listing(disk / "buffer")) >= 2,
                            "two cycles kept", limit_s=60)
                (disk / "filler").write_bytes(os.urandom(2 * 2**20))  # free space now under the 6 MiB reserve
                await until(lambda: "dropped the" in log.read_text(), "the sentry saying it drops cycles",
                            limit_s=60)
                newest = listing(disk / "buffer")[-1].seq
                await until(lambda: listing(disk / "buffer")[-1].seq >= newest + 3, "polling going on",
                            limit_s=60)
            finally:
                sentry.send_signal(signal.SIGTERM)
                assert sentry.wait(timeout=30) == 0
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    text = log.read_text()
    assert "MiB free and the buffer leaves 6 MiB to the rest of the system: dropped the" in text
    assert "Traceback" not in text
