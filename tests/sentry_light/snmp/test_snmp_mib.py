"""MINERWATCH-MIB: smilint-clean, loadable by net-snmp, and the same tree, enumerations and notification
objects as collectors/mib.py."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from collectors.algorithms import ALGORITHMS
from collectors.mib import (ALERT_OBJECTS, ARCS, BASE, HA_ROLE, MINER_KIND, NOTIFICATIONS, SENTRY_STATUS,
                            SEVERITY, dotted, oid)
from tests.conftest import require
from tests.net_snmp import MIB_DIR, mib_args, shared_mibs, tool

MIB = MIB_DIR / "MINERWATCH-MIB.txt"
_NODE = re.compile(
    r"^([a-z][\w-]*)\s+(?:OBJECT IDENTIFIER|OBJECT-TYPE|NOTIFICATION-TYPE|MODULE-IDENTITY|MODULE-COMPLIANCE"
    r"|OBJECT-GROUP|NOTIFICATION-GROUP)\b.*?::=\s*\{\s*([a-zA-Z][\w-]*)\s+(\d+)\s*\}",
    re.MULTILINE | re.DOTALL)


def mib_tree() -> dict[str, tuple[int, ...]]:
    """Every named node of the MIB file, resolved to its full OID (the base from netSnmpPlaypen)."""
    text = re.sub(r"--[^\n]*", "", MIB.read_text())
    parents = {name: (parent, int(arc)) for name, parent, arc in _NODE.findall(text)}
    resolved = {"netSnmpPlaypen": (1, 3, 6, 1, 4, 1, 8072, 9999, 9999)}

    def resolve(name: str) -> tuple[int, ...]:
        if name not in resolved:
            parent, arc = parents[name]
            resolved[name] = resolve(parent) + (arc,)
        return resolved[name]

    return {name: resolve(name) for name in parents}


def test_mib_py_names_every_node_of_the_mib_with_its_oid():
    tree = mib_tree()
    assert tree.pop("minerwatchMIB") == BASE
    assert {name: oid(name) for name in ARCS} == tree


def test_smilint_level_6_reports_no_errors():
    smilint = tool("smilint")
    require(shared_mibs().is_dir(), f"the shared IETF MIBs ({shared_mibs()})")
    result = subprocess.run([smilint, "-l", "6", "-s", str(MIB)], capture_output=True, check=False, text=True, timeout=60,
                            env={**os.environ, "SMIPATH": str(shared_mibs())})
    report = result.stdout + result.stderr
    # smilint's severities: 0-2 are errors, 3 a change recommended, 4-6 warnings. The MIB has none at all.
    assert report == "", report


def test_snmptranslate_loads_the_mib_and_agrees_on_every_oid():
    names = sorted(ARCS)
    result = subprocess.run([tool("snmptranslate"), *mib_args(), "-On", *(f"MINERWATCH-MIB::{n}" for n in names)],
                            capture_output=True, check=False, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["." + dotted(oid(name)) for name in names]


def describe(name: str) -> str:
    result = subprocess.run([tool("snmptranslate"), *mib_args(), "-Td", f"MINERWATCH-MIB::{name}"],
                            capture_output=True, check=False, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("notification", sorted(NOTIFICATIONS.values()))
def test_each_notification_carries_the_objects_mib_py_names_in_order(notification):
    objects = re.search(r"OBJECTS\s*\{([^}]*)\}", describe(notification))
    assert objects is not None
    assert tuple(name.strip() for name in objects[1].split(",")) == ALERT_OBJECTS


@pytest.mark.parametrize(("name", "numbers"), [("mwSentryStatus", SENTRY_STATUS), ("mwAlertSeverity", SEVERITY),
                                               ("mwFarmHaRole", HA_ROLE), ("mwMinerKind", MINER_KIND)])
def test_the_enumerations_number_as_the_mib_does(name, numbers):
    syntax = re.search(r"SYNTAX\s+INTEGER\s*\{([^}]*)\}", describe(name))
    assert syntax is not None
    assert {label: int(number) for label, number in re.findall(r"(\w+)\((\d+)\)", syntax[1])} == numbers


def test_the_mib_numbers_the_algorithms_as_the_table_does():
    text = " ".join(MIB.read_text().split())
    description = re.search(r"MwAlgorithmIndex ::= TEXTUAL-CONVENTION .*? numbers those it knows, (.*?)\. An", text)
    assert description is not None
    listed = {name.strip(): int(number)
              for name, number in re.findall(r"([^,()]+(?:,\d+)?)\((\d+)\)", description[1].split(": ", 1)[1])}
    assert listed == {algorithm.name: algorithm.number for algorithm in ALGORITHMS}
