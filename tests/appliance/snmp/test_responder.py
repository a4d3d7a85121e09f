"""The commander's responder over in-memory pipes: the farm file's cells, a stale farm's fault role,
and what a missing, broken or foreign file serves (nothing, said once)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.snmp.responder import Farm
from collectors.mib import dotted, oid
from simfarm.samples.farm_document import WRITTEN_AT, farm_document
from snmp_agent.pass_persist import serve
from tests.conftest import REPO
from tests.net_snmp import write_json


NOW = WRITTEN_AT + 10
FARM = "." + dotted(oid("mwFarmObjects"))
NAME = "." + dotted(oid("mwFarmName")) + ".0"
ROLE = "." + dotted(oid("mwFarmHaRole")) + ".0"
POLLED_AT = "." + dotted(oid("mwFarmPolledAt")) + ".0"
MODEL = "." + dotted(oid("mwMinerModel")) + ".1"


@pytest.fixture
def farm_file(tmp_path: Path) -> Path:
    path = tmp_path / "farm.json"
    write_json(path, farm_document())
    return path


def converse(path: Path, requests: str, now: float = NOW) -> list[str]:
    """The responder's answer lines to ``requests``, ended by EOF as snmpd's close ends them."""
    out = io.BytesIO()
    serve(Farm(path, clock=lambda: now), io.BytesIO(requests.encode()), out)
    return out.getvalue().decode().splitlines()


def walk(path: Path, now: float = NOW) -> list[tuple[str, str, str]]:
    """Every cell by getnext from the farm subtree, as snmpd asks for them in a walk."""
    farm = Farm(path, clock=lambda: now)
    cells, cursor = [], oid("mwFarmObjects")
    while (answer := farm.getnext(cursor)) != b"NONE\n":
        name, kind, value = answer.decode().splitlines()
        cells.append((name, kind, value))
        cursor = tuple(int(arc) for arc in name.lstrip(".").split("."))
    return cells


def test_get_and_getnext(farm_file):
    assert converse(farm_file, f"PING\nget\n{NAME}\nPING\ngetnext\n{FARM}\nget\n{MODEL}\n") == [
        "PONG", NAME, "string", "north-farm", "PONG", NAME, "string", "north-farm",
        MODEL, "string", "Antminer S19 Pro"]


def test_a_walk_gives_every_cell_once_in_order(farm_file):
    cells = walk(farm_file)
    keys = [tuple(int(arc) for arc in name.lstrip(".").split(".")) for name, _, _ in cells]
    # the farm's scalars, the cells of its four miners (the first polled by an ASIC sentry), and of its
    # two algorithms
    assert keys == sorted(keys) and len(set(keys)) == len(keys) == 10 + 19 + 17 + 8 + 2 + 2 * 8
    assert (ROLE, "integer", "1") in cells


def test_a_stale_farm_says_fault_and_keeps_its_last_values(farm_file):
    stale = WRITTEN_AT + 181
    assert converse(farm_file, f"get\n{ROLE}\nget\n{POLLED_AT}\ngetnext\n{NAME}\n", now=stale) == [
        ROLE, "integer", "3", POLLED_AT, "gauge", "1764230400", ROLE, "integer", "3"]
    fresh, old = walk(farm_file), walk(farm_file, now=stale)
    assert [cell for cell in old if cell[0] != ROLE] == [cell for cell in fresh if cell[0] != ROLE]
    assert (ROLE, "integer", "3") in old


def test_a_stale_farm_without_a_role_gains_the_fault_role(farm_file):
    document = farm_document(ha_role=None)
    write_json(farm_file, document)
    assert converse(farm_file, f"get\n{ROLE}\n") == ["NONE"]
    assert converse(farm_file, f"getnext\n{NAME}\n", now=WRITTEN_AT + 600) == [ROLE, "integer", "3"]


def test_without_written_at_the_files_time_says_how_old_it_is(farm_file):
    document = farm_document()
    del document["written_at"]
    write_json(farm_file, document)
    os.utime(farm_file, (WRITTEN_AT, WRITTEN_AT))
    assert converse(farm_file, f"get\n{ROLE}\n") == [ROLE, "integer", "1"]
    assert converse(farm_file, f"get\n{ROLE}\n", now=WRITTEN_AT + 600) == [ROLE, "integer", "3"]


def test_a_missing_file_serves_nothing_and_says_so_once(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    missing = tmp_path / "farm.json"
    assert converse(missing, f"get\n{NAME}\ngetnext\n{FARM}\nget\n{ROLE}\n") == ["NONE", "NONE", "NONE"]
    assert [record.getMessage() for record in caplog.records] == [
        f"{missing}: No such file or directory; serving nothing"]


@pytest.mark.parametrize(("text", "why"), [('{"version": 1, "farm": {"name": "nor', "Unterminated string"),
                                           ("[1, 2]", "not a JSON object"),
                                           ('{"version": 2, "farm": {"name": "x"}}', "version 2"),
                                           ('{"version": "1", "farm": {"name": "x"}}', "version '1'"),
                                           ('{"version": true, "farm": {"name": "x"}}', "version True"),
                                           ('{"farm": {"name": "x"}}', "version None"),
                                           (b'{"version": 1, "farm": {"name": "\xc3("}}', "can't decode")])
def test_a_broken_or_foreign_document_serves_nothing(farm_file, caplog, text, why):
    farm = Farm(farm_file, clock=lambda: NOW)
    assert farm.get(oid("mwFarmName") + (0,)).endswith(b"north-farm\n")
    (farm_file.write_bytes if isinstance(text, bytes) else farm_file.write_text)(text)
    for _ in range(2):
        farm.refresh()
        assert farm.get(oid("mwFarmName") + (0,)) == b"NONE\n"
        assert farm.getnext(oid("mwFarmObjects")) == b"NONE\n"
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage().startswith(f"{farm_file} cannot be read as the farm document (")
    assert why in record.getMessage()


def test_a_replaced_file_is_served_at_the_next_request(farm_file, caplog):
    caplog.set_level(logging.INFO)
    farm = Farm(farm_file, clock=lambda: NOW)
    write_json(farm_file, farm_document(name="south-farm"))
    farm.refresh()
    assert farm.get(oid("mwFarmName") + (0,)).endswith(b"south-farm\n")
    farm_file.unlink()
    farm.refresh()
    assert farm.get(oid("mwFarmName") + (0,)) == b"NONE\n"
    write_json(farm_file, farm_document(name="west-farm"))
    farm.refresh()
    assert farm.get(oid("mwFarmName") + (0,)).endswith(b"west-farm\n")
    assert [record.levelname for record in caplog.records] == ["INFO", "WARNING", "INFO"]


def test_as_a_process_it_answers_on_stdout_only(farm_file, tmp_path):
    """snmpd gives the responder its pipe as stderr too: a log line there would be read as an answer."""
    log = tmp_path / "responder.log"
    result = subprocess.run(
        [sys.executable, "-m", "appliance.snmp.responder", "--farm", str(farm_file), "--log-file", str(log),
         "--stale-after", "1e12"],
        input=f"PING\nbogus\nget\n{NAME}\nset\n{NAME}\nstring x\n\nget\n{ROLE}\n", capture_output=True,
        check=False, text=True, timeout=30, cwd=REPO, env={**os.environ, "PYTHONWARNINGS": "always"})
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["PONG", "NONE", NAME, "string", "north-farm", "not-writable",
                                          ROLE, "integer", "1"]
    assert result.stderr == ""
    assert "bogus" in log.read_text()
