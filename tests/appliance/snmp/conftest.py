"""Real net-snmp for the commander's SNMP tests: an snmpd on a free loopback port
(``tests/net_snmp.py``) with the block ``minerwatch snmpd-conf`` prints, serving a farm document."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.snmp import cli
from collectors.mib import dotted, oid
from simfarm.samples.farm_document import big_farm, farm_document
from tests.net_snmp import Agent, start_snmpd, stop_snmpd, write_json


ROLE = "." + dotted(oid("mwFarmHaRole")) + ".0"
MANY = 300  # rows past the first four, numbered from 1001: several GETBULK answers' worth


def farm_with_many() -> dict:
    document = farm_document(written_at=time.time())
    document["miners"] += [{**miner, "index": 1000 + miner["index"]} for miner in big_farm(MANY)["miners"]]
    return document


def start_farm_snmpd(directory: Path, farm: Path, conf_lines: tuple[str, ...] = ()) -> Agent:
    """snmpd with the commander's block (and ``conf_lines`` before it), once the farm is served."""
    return start_snmpd(directory, [*conf_lines, *cli.block(farm).splitlines()], farm, directory / "responder.log",
                       probe=ROLE)


@pytest.fixture(scope="module")
def farm_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """One snmpd for the tests that only read."""
    directory = tmp_path_factory.mktemp("snmpd")
    farm = directory / "farm.json"
    write_json(farm, farm_with_many())
    agent = start_farm_snmpd(directory, farm)
    yield agent
    stop_snmpd(agent)
