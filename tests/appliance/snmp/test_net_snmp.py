"""The commander's responder under a real net-snmp snmpd, with the block ``minerwatch snmpd-conf``
prints: net-snmp's own tools read the farm by MIB name, GETBULK walks the whole device table, and
a stale farm says fault."""

from __future__ import annotations

import time
from pathlib import Path

from simfarm.samples.farm_document import DOWN, farm_document
from simfarm.samples.rig import twelve_gpu_rig
from tests.net_snmp import V3_AUTH, V3_PRIV, V3_USER, Agent, mib_args, stop_snmpd, write_json
from tests.sentry_light.snmp.conftest import sentry_lines

from .conftest import MANY, start_farm_snmpd

V3 = ("-v3", "-l", "authPriv", "-u", V3_USER, "-a", "SHA", "-A", V3_AUTH, "-x", "AES", "-X", V3_PRIV)


def parse_walk(output: str) -> dict[str, str]:
    """``MINERWATCH-MIB::name.index = TYPE: value`` lines as {name.index: "TYPE: value"}."""
    return {key.removeprefix("MINERWATCH-MIB::"): value
            for key, value in (line.split(" = ", 1) for line in output.splitlines() if " = " in line)}


def test_snmpwalk_reads_the_farm_and_its_devices_by_mib_name(farm_agent: Agent):
    result = farm_agent.query("snmpwalk", "MINERWATCH-MIB::mwFarmObjects", options=mib_args())
    assert result.returncode == 0, result.stderr
    cells = parse_walk(result.stdout)
    assert {key: value for key, value in cells.items() if key.startswith("mwFarm") and key.endswith(".0")} == {
        "mwFarmName.0": "STRING: north-farm",
        "mwFarmHaRole.0": "INTEGER: master(1)",
        "mwFarmAsics.0": "Gauge32: 3",
        "mwFarmAsicsUp.0": "Gauge32: 2",
        "mwFarmRigs.0": "Gauge32: 1",
        "mwFarmRigsUp.0": "Gauge32: 1",
        "mwFarmPower.0": "Gauge32: 360000 watts",
        "mwFarmAlertsActive.0": "Gauge32: 3",
        "mwFarmPollDuration.0": "Gauge32: 2345 milliseconds",
        "mwFarmPolledAt.0": "Gauge32: 1764230400 seconds since 1970-01-01 00:00 UTC",
    }
    assert {key: value for key, value in cells.items() if key.startswith("mwMiner") and key.endswith(".1")} == {
        "mwMinerAddress.1": "STRING: 10.0.0.5:4028",
        "mwMinerKind.1": "INTEGER: asic(1)",
        "mwMinerHostname.1": "STRING: s19-a1",
        "mwMinerMake.1": "STRING: Bitmain",
        "mwMinerModel.1": "STRING: Antminer S19 Pro",
        "mwMinerFirmware.1": "STRING: stock 2023-03-01",
        "mwMinerReachable.1": "INTEGER: true(1)",
        "mwMinerHashrate.1": "Gauge32: 110000000",
        "mwMinerHashrateUnit.1": "INTEGER: megaHashesPerSecond(3)",
        "mwMinerPower.1": "Gauge32: 3250 watts",
        "mwMinerTempMax.1": "INTEGER: 71.5 degrees Celsius",
        "mwMinerUptime.1": "Gauge32: 86400 seconds",
        "mwMinerAccepted.1": "Counter32: 1234",
        "mwMinerRejected.1": "Counter32: 5",
        "mwMinerPolledAt.1": "Gauge32: 1764230400 seconds since 1970-01-01 00:00 UTC",
        "mwMinerAlgorithm.1": "STRING: SHA256",
        "mwMinerHashrateFixed.1": "Gauge32: 110.00",  # DISPLAY-HINT "d-2": hundredths of TH/s
        "mwMinerHashrateFixedUnit.1": "INTEGER: teraHashesPerSecond(5)",
        "mwMinerSentry.1": "STRING: north",  # polled by the ASIC sentry "north"
    }
    # The farm's hashrate, a row per algorithm under the algorithm's number: SHA256 is 1, KawPow 8.
    assert {key: value for key, value in cells.items() if key.startswith("mwFarmAlgo")} == {
        "mwFarmAlgoName.1": "STRING: SHA256", "mwFarmAlgoName.8": "STRING: KawPow",
        "mwFarmAlgoMiners.1": "Gauge32: 2", "mwFarmAlgoMiners.8": "Gauge32: 1",
        "mwFarmAlgoMinersUp.1": "Gauge32: 1", "mwFarmAlgoMinersUp.8": "Gauge32: 1",
        "mwFarmAlgoHashrate.1": "Gauge32: 110000000", "mwFarmAlgoHashrate.8": "Gauge32: 62000000",
        "mwFarmAlgoHashrateUnit.1": "INTEGER: megaHashesPerSecond(3)",
        "mwFarmAlgoHashrateUnit.8": "INTEGER: hashesPerSecond(1)",
        "mwFarmAlgoHashrateFixed.1": "Gauge32: 110.00", "mwFarmAlgoHashrateFixed.8": "Gauge32: 62.00",
        "mwFarmAlgoHashrateFixedUnit.1": "INTEGER: teraHashesPerSecond(5)",
        "mwFarmAlgoHashrateFixedUnit.8": "INTEGER: megaHashesPerSecond(3)",
        "mwFarmAlgoPower.1": "Gauge32: 3250 watts", "mwFarmAlgoPower.8": "Gauge32: 2705 watts",
    }
    assert cells["mwMinerKind.2"] == "INTEGER: rig(2)"
    assert cells["mwMinerHashrateUnit.2"] == "INTEGER: hashesPerSecond(1)"
    assert cells["mwMinerReachable.3"] == "INTEGER: false(2)" and cells["mwMinerError.3"] == f"STRING: {DOWN['error']}"
    assert cells["mwMinerAlgorithm.2"] == "STRING: KawPow"
    assert sorted(key for key in cells if key.endswith(".7")) == ["mwMinerKind.7", "mwMinerReachable.7"]


def test_snmpget_by_name_and_no_instance_for_what_a_device_did_not_say(farm_agent: Agent):
    result = farm_agent.query("snmpget", "MINERWATCH-MIB::mwMinerModel.1", "MINERWATCH-MIB::mwFarmHaRole.0",
                              "MINERWATCH-MIB::mwMinerHashrate.3", "MINERWATCH-MIB::mwMinerModel.1300",
                              options=mib_args())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "MINERWATCH-MIB::mwMinerModel.1 = STRING: Antminer S19 Pro",
        "MINERWATCH-MIB::mwFarmHaRole.0 = INTEGER: master(1)",
        "MINERWATCH-MIB::mwMinerHashrate.3 = No Such Instance currently exists at this OID",
        "MINERWATCH-MIB::mwMinerModel.1300 = STRING: Antminer S19 Pro",
    ]


def test_a_getbulk_walk_of_the_device_table_gives_every_row(farm_agent: Agent):
    bulk = farm_agent.query("snmpbulkwalk", "MINERWATCH-MIB::mwMinerTable", options=[*mib_args(), "-Cr50"])
    walk = farm_agent.query("snmpwalk", "MINERWATCH-MIB::mwMinerTable", options=mib_args())
    assert bulk.returncode == walk.returncode == 0, bulk.stderr + walk.stderr
    cells = parse_walk(bulk.stdout)
    assert cells == parse_walk(walk.stdout)
    rows = {key.split(".")[1] for key in cells if key.startswith("mwMinerKind.")}
    assert rows == {"1", "2", "3", "7"} | {str(1000 + n) for n in range(1, MANY + 1)}
    assert sum(key.startswith("mwMinerAddress.") for key in cells) == 3 + MANY


def test_v3_authpriv_reads_the_farm(farm_agent: Agent):
    result = farm_agent.query("snmpget", "MINERWATCH-MIB::mwFarmName.0", options=mib_args(), auth=V3)
    assert result.returncode == 0 and result.stdout.strip().endswith("STRING: north-farm"), result.stderr


def test_a_stale_farm_says_fault_and_a_missing_one_serves_nothing_until_written(tmp_path: Path):
    farm = tmp_path / "farm.json"
    write_json(farm, farm_document(written_at=time.time() - 3600))
    agent = start_farm_snmpd(tmp_path, farm)
    try:
        stale = agent.query("snmpget", "MINERWATCH-MIB::mwFarmHaRole.0", "MINERWATCH-MIB::mwFarmPolledAt.0",
                            options=mib_args())
        assert stale.stdout.splitlines() == [
            "MINERWATCH-MIB::mwFarmHaRole.0 = INTEGER: fault(3)",
            "MINERWATCH-MIB::mwFarmPolledAt.0 = Gauge32: 1764230400 seconds since 1970-01-01 00:00 UTC"]
        farm.unlink()
        gone = agent.query("snmpwalk", "MINERWATCH-MIB::mwFarmObjects", options=mib_args())
        assert list(parse_walk(gone.stdout)) == ["mwFarmObjects"]  # no cell: snmpwalk tries a GET of the root
        write_json(farm, farm_document(written_at=time.time(), name="south-farm", ha_role="backup"))
        back = agent.query("snmpget", "MINERWATCH-MIB::mwFarmName.0", "MINERWATCH-MIB::mwFarmHaRole.0",
                           options=mib_args())
        assert back.stdout.splitlines() == ["MINERWATCH-MIB::mwFarmName.0 = STRING: south-farm",
                                            "MINERWATCH-MIB::mwFarmHaRole.0 = INTEGER: backup(2)"]
    finally:
        stop_snmpd(agent)


def test_one_snmpd_serves_a_rig_and_the_farm_each_from_its_own_block(tmp_path: Path):
    # A commander that is a rig as well: both installed blocks in one snmpd.conf, each its own subtree.
    snapshot, farm = tmp_path / "rig.json", tmp_path / "farm.json"
    write_json(snapshot, twelve_gpu_rig(collected_at=time.time()).to_dict())
    write_json(farm, farm_document(written_at=time.time()))
    agent = start_farm_snmpd(tmp_path, farm, conf_lines=tuple(sentry_lines(snapshot, tmp_path / "sentry.log")))
    try:
        both = agent.query("snmpget", "MINERWATCH-MIB::mwSentryStatus.0", "MINERWATCH-MIB::mwRigHostname.0",
                           "MINERWATCH-MIB::mwFarmName.0", options=mib_args())
        assert both.stdout.splitlines() == ["MINERWATCH-MIB::mwSentryStatus.0 = INTEGER: ok(1)",
                                            "MINERWATCH-MIB::mwRigHostname.0 = STRING: rig-012",
                                            "MINERWATCH-MIB::mwFarmName.0 = STRING: north-farm"]
    finally:
        stop_snmpd(agent)
