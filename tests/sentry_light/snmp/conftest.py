"""Real net-snmp for the rig's SNMP tests: an snmpd on a free loopback port (``tests/net_snmp.py``),
serving a 12-GPU rig's snapshot through the sentry's pass_persist responder."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.mib import dotted, oid
from sentry_light.snmp import snmpd_conf
from simfarm.samples.rig import twelve_gpu_rig
from tests.net_snmp import Agent, start_snmpd, stop_snmpd, write_json


def sentry_lines(snapshot: Path, responder_log: Path) -> list[str]:
    """The block ``minerwatch-sentry snmpd-conf`` prints, its responder logging to ``responder_log``."""
    command = f"{sys.executable} -m sentry_light.snmp.pass_persist --snapshot {snapshot} --log-file {responder_log}"
    return snmpd_conf.block(snapshot, command=command).splitlines()


def start_sentry_snmpd(directory: Path, snapshot: Path) -> Agent:
    responder_log = directory / "responder.log"
    return start_snmpd(directory, sentry_lines(snapshot, responder_log), snapshot, responder_log,
                       probe="." + dotted(oid("mwSentryStatus")) + ".0")


@pytest.fixture(scope="module")
def rig() -> dict:
    return twelve_gpu_rig(collected_at=time.time()).to_dict()


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, rig: dict) -> Iterator[Agent]:
    """One snmpd for the tests that only read."""
    directory = tmp_path_factory.mktemp("snmpd")
    snapshot = directory / "snapshot.json"
    write_json(snapshot, rig)
    agent = start_sentry_snmpd(directory, snapshot)
    yield agent
    stop_snmpd(agent)


@pytest.fixture
def own_agent(tmp_path: Path, rig: dict) -> Iterator[Agent]:
    """An snmpd of the test's own, for tests that kill, break or change things."""
    snapshot = tmp_path / "snapshot.json"
    write_json(snapshot, rig)
    agent = start_sentry_snmpd(tmp_path, snapshot)
    yield agent
    stop_snmpd(agent)
