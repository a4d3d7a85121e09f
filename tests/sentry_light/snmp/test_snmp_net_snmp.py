"""The responder under a real net-snmp snmpd: net-snmp's own tools and the commander's collector
read the same 12-GPU rig; v3 authPriv works and refuses a wrong key; a killed responder is restarted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from collectors.errors import AuthFailed, DeviceUnreachable
from collectors.mib import BASE, dotted, oid
from collectors.rig import read_rig
from collectors.transport.snmp import SnmpClient, SnmpTarget
from simfarm.samples.rig import BUSES
from tests.net_snmp import V3_AUTH, V3_PRIV, V3_USER, WRITE_COMMUNITY, Agent, mib_args, tool, write_json


ROOT = "MINERWATCH-MIB::minerwatchMIB"
V3 = ("-v3", "-l", "authPriv", "-u", V3_USER, "-a", "SHA", "-A", V3_AUTH, "-x", "AES", "-X", V3_PRIV)


@pytest.fixture
async def client():
    client = SnmpClient()
    yield client
    client.close()


def parse_walk(output: str) -> dict[str, str]:
    """``MINERWATCH-MIB::name.index = TYPE: value`` lines as {name.index: "TYPE: value"}."""
    return dict(line.split(" = ", 1) for line in output.splitlines() if " = " in line)


def test_snmpwalk_shows_the_gpu_table_with_bus_ids_and_hashrates(agent: Agent, rig: dict):
    result = agent.query("snmpwalk", "MINERWATCH-MIB::mwGpuTable", options=mib_args())
    assert result.returncode == 0, result.stderr
    cells = parse_walk(result.stdout)
    for gpu in rig["gpus"]:
        index = 1 + int(gpu["bus_id"].split(":")[1], 16) * 256
        assert cells[f"MINERWATCH-MIB::mwGpuBusId.{index}"] == f"STRING: {gpu['bus_id']}"
        assert cells[f"MINERWATCH-MIB::mwGpuHashrate.{index}"] == f"Gauge32: {round(gpu['hashrate_hs'])}"
        assert cells[f"MINERWATCH-MIB::mwGpuHashrateUnit.{index}"] == "INTEGER: hashesPerSecond(1)"
        assert cells[f"MINERWATCH-MIB::mwGpuTemp.{index}"] == f"INTEGER: {gpu['temp_c']:.1f} degrees Celsius"
    assert sum(key.startswith("MINERWATCH-MIB::mwGpuBusId.") for key in cells) == len(BUSES)


def test_snmpwalk_shows_the_rigs_hashrate_per_algorithm_by_name(agent: Agent, rig: dict):
    kawpow = rig["hashrate_by_algorithm_hs"]["KawPow"]
    result = agent.query("snmpwalk", "MINERWATCH-MIB::mwRigAlgoTable", options=mib_args())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "MINERWATCH-MIB::mwRigAlgoName.8 = STRING: KawPow",
        f"MINERWATCH-MIB::mwRigAlgoHashrate.8 = Gauge32: {round(kawpow)}",
        "MINERWATCH-MIB::mwRigAlgoHashrateUnit.8 = INTEGER: hashesPerSecond(1)",
        f"MINERWATCH-MIB::mwRigAlgoHashrateFixed.8 = Gauge32: {kawpow / 1e6:.2f}",
        "MINERWATCH-MIB::mwRigAlgoHashrateFixedUnit.8 = INTEGER: megaHashesPerSecond(3)",
    ]
    programs = parse_walk(agent.query("snmpwalk", "MINERWATCH-MIB::mwProgramTable", options=mib_args()).stdout)
    assert programs["MINERWATCH-MIB::mwProgramHashrateFixed.1"] == f"Gauge32: {kawpow / 1e6:.2f}"
    assert programs["MINERWATCH-MIB::mwProgramHashrateFixedUnit.1"] == "INTEGER: megaHashesPerSecond(3)"
    assert "MINERWATCH-MIB::mwProgramHashrateFixed.2" not in programs  # xmrig is down: no hashrate at all


def test_snmpbulkwalk_and_snmpwalk_agree_on_the_whole_subtree(agent: Agent):
    walk = agent.query("snmpwalk", ROOT, options=[*mib_args(), "-On"])
    bulk = agent.query("snmpbulkwalk", ROOT, options=[*mib_args(), "-On", "-Cr25"])
    assert walk.returncode == bulk.returncode == 0, walk.stderr + bulk.stderr
    walked, bulked = parse_walk(walk.stdout), parse_walk(bulk.stdout)
    walked.pop("." + dotted(oid("mwSentrySnapshotAge")) + ".0")  # the clock moved between the two
    bulked.pop("." + dotted(oid("mwSentrySnapshotAge")) + ".0")
    assert walked == bulked and len(walked) > 250


def test_snmpget_reads_rig_and_program_cells(agent: Agent, rig: dict):
    result = agent.query("snmpget", "MINERWATCH-MIB::mwRigHostname.0", "MINERWATCH-MIB::mwSentryStatus.0",
                         "MINERWATCH-MIB::mwRigHashrate.0", "MINERWATCH-MIB::mwRigAlgoCount.0",
                         "MINERWATCH-MIB::mwRigAlgoName.8", "MINERWATCH-MIB::mwRigAlgoHashrate.8",
                         "MINERWATCH-MIB::mwProgramName.1", "MINERWATCH-MIB::mwProgramApiUp.2",
                         "MINERWATCH-MIB::mwCpuLoad.0", options=mib_args())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "MINERWATCH-MIB::mwRigHostname.0 = STRING: rig-012",
        "MINERWATCH-MIB::mwSentryStatus.0 = INTEGER: ok(1)",
        # Obsolete: a sum over algorithms. The rig's hashrate is a row per algorithm, KawPow's is 8.
        "MINERWATCH-MIB::mwRigHashrate.0 = No Such Instance currently exists at this OID",
        "MINERWATCH-MIB::mwRigAlgoCount.0 = Gauge32: 1",
        "MINERWATCH-MIB::mwRigAlgoName.8 = STRING: KawPow",
        f"MINERWATCH-MIB::mwRigAlgoHashrate.8 = Gauge32: {round(rig['hashrate_by_algorithm_hs']['KawPow'])}",
        "MINERWATCH-MIB::mwProgramName.1 = STRING: trex",
        "MINERWATCH-MIB::mwProgramApiUp.2 = INTEGER: false(2)",
        "MINERWATCH-MIB::mwCpuLoad.0 = INTEGER: 37.50 percent",
    ]


async def test_the_collector_reads_the_same_snapshot(agent: Agent, rig: dict, client: SnmpClient):
    snapshot = await read_rig(SnmpTarget("127.0.0.1", agent.port), client=client)
    got = snapshot.to_dict()
    assert (got.pop("ip"), got.pop("port")) == ("127.0.0.1", agent.port) and got.pop("latency_ms") > 0
    expected = {key: value for key, value in rig.items() if key not in ("ip", "port", "latency_ms")}
    assert got == expected


async def test_pysnmp_bulk_walk_sees_what_snmpbulkwalk_sees(agent: Agent, client: SnmpClient):
    bulk = agent.query("snmpbulkwalk", "." + dotted(BASE), options=["-On", "-Oe", "-Cr25"])
    walked = await client.bulk_walk(SnmpTarget("127.0.0.1", agent.port), BASE)
    lines = [line for line in bulk.stdout.splitlines() if " = " in line]
    assert ["." + dotted(key) for key, _ in walked] == [line.split(" = ")[0] for line in lines]
    gpu_hashrate = oid("mwGpuHashrate") + (257,)
    assert dict(walked)[gpu_hashrate] == 34_500_000


def test_v3_authpriv_works_and_a_wrong_key_is_refused(agent: Agent):
    good = agent.query("snmpget", "MINERWATCH-MIB::mwRigHostname.0", options=mib_args(), auth=V3)
    assert good.returncode == 0 and "rig-012" in good.stdout, good.stderr
    wrong = list(V3)
    wrong[wrong.index(V3_AUTH)] = "not-the-passphrase"
    bad = agent.query("snmpget", "MINERWATCH-MIB::mwRigHostname.0", options=mib_args(), auth=wrong)
    assert bad.returncode != 0 and "Authentication failure" in bad.stderr


async def test_the_collector_over_v3_and_its_errors(agent: Agent, client: SnmpClient):
    v3 = SnmpTarget("127.0.0.1", agent.port, version="3", user=V3_USER, auth_key=V3_AUTH, priv_key=V3_PRIV)
    assert (await read_rig(v3, client=client)).hostname == "rig-012"
    other = SnmpClient()  # pysnmp keeps one key set per user name, so the wrong one needs its own engine
    try:
        wrong = SnmpTarget("127.0.0.1", agent.port, version="3", user=V3_USER, auth_key="not-the-passphrase",
                           priv_key=V3_PRIV)
        with pytest.raises(AuthFailed, match=f"127.0.0.1:{agent.port} refused the SNMPv3 credentials"):
            await read_rig(wrong, client=other)
        stranger = SnmpTarget("127.0.0.1", agent.port, version="3", user="stranger", auth_key=V3_AUTH,
                              priv_key=V3_PRIV)
        with pytest.raises(AuthFailed, match="user 'stranger'"):
            await read_rig(stranger, client=other)
    finally:
        other.close()
    with pytest.raises(DeviceUnreachable, match=f"no SNMP answer from 127.0.0.1:{agent.port}"):
        await read_rig(SnmpTarget("127.0.0.1", agent.port, community="wrong"), timeout=0.6, client=client)


def test_set_is_refused_and_the_responder_stays_in_step(agent: Agent):
    before = agent.responder_pids()
    result = agent.query("snmpset", "MINERWATCH-MIB::mwRigHostname.0", "s", "evil", options=mib_args(),
                         auth=("-v2c", "-c", WRITE_COMMUNITY))
    assert result.returncode != 0 and "notWritable" in result.stderr
    after = agent.query("snmpget", "MINERWATCH-MIB::mwRigHostname.0", options=mib_args())
    assert "rig-012" in after.stdout
    assert agent.responder_pids() == before  # had an answer gone astray, snmpd would have killed it
    assert "snmpd sent" not in agent.responder_log.read_text()


def test_a_responder_killed_mid_walk_is_restarted_and_snmpd_does_not_hang(own_agent: Agent):
    full = own_agent.query("snmpwalk", "." + dotted(BASE), options=["-On"])
    count = len(full.stdout.splitlines())
    for _ in range(3):
        walk = subprocess.Popen(
            [tool("snmpwalk"), "-v2c", "-c", "public", "-t", "2", "-r", "1", "-On", own_agent.address, "." + dotted(BASE)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.05)  # some cells in
        (pid,) = own_agent.responder_pids()
        os.kill(pid, signal.SIGKILL)
        walk.communicate(timeout=30)  # ends, whatever it got: snmpd went on answering
        started = time.monotonic()
        again = own_agent.query("snmpwalk", "." + dotted(BASE), options=["-On"])
        assert again.returncode == 0 and len(again.stdout.splitlines()) == count
        assert time.monotonic() - started < 10
        new = own_agent.responder_pids()
        assert len(new) == 1 and new[0] != pid
    assert own_agent.process.poll() is None


def test_no_snapshot_serves_status_down_until_the_sentry_writes_one(own_agent: Agent, rig: dict):
    own_agent.file.unlink()
    status = own_agent.query("snmpget", "MINERWATCH-MIB::mwSentryStatus.0", "MINERWATCH-MIB::mwRigHostname.0",
                             options=mib_args())
    assert status.stdout.splitlines() == [
        "MINERWATCH-MIB::mwSentryStatus.0 = INTEGER: down(3)",
        "MINERWATCH-MIB::mwRigHostname.0 = No Such Instance currently exists at this OID"]
    write_json(own_agent.file, {**rig, "hostname": "rig-back"})
    back = own_agent.query("snmpget", "MINERWATCH-MIB::mwRigHostname.0", options=mib_args())
    assert re.search(r"STRING: rig-back$", back.stdout.strip())
