"""The NMS clients README.md names, as it writes them, against a real snmpd serving a farm: Nagios'
check_snmp on the fixed-unit hashrate (its thresholds hold as the farm slows down), and Prometheus'
snmp_exporter with the generator input in packaging/prometheus."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from simfarm.samples.farm_document import farm_document
from tests.conftest import REPO, require, wait_until
from tests.net_snmp import COMMUNITY, MIB_DIR, Agent, shared_mibs, stop_snmpd, write_json

from .conftest import start_farm_snmpd

README = REPO / "README.md"
CHECK_SNMP = "/usr/lib/nagios/plugins/check_snmp"
INSTALLED_MIBS = "/usr/share/snmp/mibs/minerwatch"  # where README's lines expect MINERWATCH-MIB


def readme_commands(program: str) -> list[list[str]]:
    """The command lines of README.md's NMS section that run ``program``, continuation lines joined,
    as argument lists (leading ``NAME=value`` words are the environment)."""
    section = README.read_text().split("### Serve the farm to your NMS", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    commands = [shlex.split(line, comments=True) for line in "\n".join(blocks).replace("\\\n", " ").splitlines()]
    return [words for words in commands
            if Path(next((w for w in words if not _ASSIGNMENT.match(w)), "")).name == program]


_ASSIGNMENT = re.compile(r"[A-Z_]+=")


def run(command: list[str], agent: Agent, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A README line against ``agent``: COMMANDER and COMMUNITY filled in, the MIB directory this
    checkout's (and the IETF MIBs it imports, which Debian's snmp-mibs-downloader installs)."""
    env = dict(os.environ)
    while _ASSIGNMENT.match(command[0]):
        name, value = command.pop(0).split("=", 1)
        env[name] = value.replace(INSTALLED_MIBS, f"{MIB_DIR}:{shared_mibs()}")
    filled = {"COMMANDER": ["127.0.0.1", "-p", str(agent.port)], "COMMUNITY": [COMMUNITY]}
    args = [arg for word in command for arg in filled.get(word, [word])]
    return subprocess.run(args, capture_output=True, check=False, text=True, timeout=60, env=env, cwd=cwd)


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[Path, Agent]]:
    require(shared_mibs().is_dir(), f"the shared IETF MIBs ({shared_mibs()})")
    path = tmp_path / "farm.json"
    write_json(path, sha256_farm(4_200e12))
    agent = start_farm_snmpd(tmp_path, path)
    yield path, agent
    stop_snmpd(agent)


def sha256_farm(hashrate_hs: float) -> dict:
    document = farm_document(written_at=time.time())
    document["algorithms"][0]["hashrate_hs"] = hashrate_hs
    return document


def test_check_snmp_as_the_readme_writes_it_holds_its_threshold_as_the_farm_slows(farm):
    require(Path(CHECK_SNMP).exists(), "check_snmp (Debian: monitoring-plugins-standard)")
    path, agent = farm
    by_number, by_name = readme_commands("check_snmp")
    # From 4,400 to 4,200 TH/s the adaptive column goes from 4,400,000 GH/s to 4,200,000,000 MH/s;
    # the fixed one, in hundredths of TH/s, only falls, and the thresholds (4,000 and 3,500) hold.
    for hashrate_hs, status, shown in ((4_400e12, 0, "OK - SHA256 4400 TH/s"),
                                       (4_200e12, 0, "OK - SHA256 4200 TH/s"),
                                       (3_800e12, 1, "WARNING - SHA256 *3800* TH/s"),
                                       (3_000e12, 2, "CRITICAL - SHA256 *3000* TH/s")):
        write_json(path, sha256_farm(hashrate_hs))
        result = run(list(by_number), agent)
        assert (result.returncode, result.stdout.split(" | ")[0]) == (status, f"SNMP {shown}"), result.stderr
    miner = run(list(by_name), agent)  # the S19 Pro of farmdata, 110 TH/s
    assert miner.returncode == 0 and miner.stdout.startswith("SNMP OK - 110 TH/s |"), miner.stdout + miner.stderr


def test_snmp_exporter_exports_the_fixed_unit_columns_with_their_algorithm(farm, tmp_path: Path):
    require(all(shutil.which(p) for p in ("prometheus-snmp-generator", "prometheus-snmp-exporter")),
            "snmp_exporter and its generator (Debian: prometheus-snmp-exporter)")
    _, agent = farm
    work = tmp_path / "prometheus"
    work.mkdir()
    shutil.copy(REPO / "packaging" / "prometheus" / "generator.yml", work / "generator.yml")
    [generate] = readme_commands("prometheus-snmp-generator")
    made = run(generate, agent, cwd=work)
    assert made.returncode == 0 and (work / "snmp.yml").exists(), made.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    [serve] = readme_commands("prometheus-snmp-exporter")
    process = subprocess.Popen([*serve, f"--web.listen-address=127.0.0.1:{port}"], cwd=work,
                               stdout=subprocess.DEVNULL, stderr=(work / "exporter.log").open("w"))
    try:
        wait_until(lambda: _listening(port), "snmp_exporter listening")
        url = f"http://127.0.0.1:{port}/snmp?module=minerwatch_farm&target=127.0.0.1:{agent.port}"
        with urllib.request.urlopen(url, timeout=20) as reply:
            metrics = reply.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=10)
    series = {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1] for line in metrics.splitlines() if line.startswith("mw")}
    assert series['mwFarmAlgoHashrateFixed{mwFarmAlgoIndex="1",mwFarmAlgoName="SHA256"}'] == "420000"
    assert series['mwFarmAlgoHashrateFixed{mwFarmAlgoIndex="8",mwFarmAlgoName="KawPow"}'] == "6200"
    assert series[('mwFarmAlgoHashrateFixedUnit_info{mwFarmAlgoHashrateFixedUnit="teraHashesPerSecond",'
                   'mwFarmAlgoIndex="1",mwFarmAlgoName="SHA256"}')] == "1"
    assert series['mwMinerHashrateFixed{mwMinerAddress="10.0.0.5:4028",mwMinerAlgorithm="SHA256",mwMinerIndex="1"}'] \
        == "11000"
    assert not any(name.startswith(("mwFarmAlgoHashrate{", "mwMinerHashrate{")) for name in series)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
