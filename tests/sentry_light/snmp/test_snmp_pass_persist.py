"""The pass_persist responder's protocol, as net-snmp 5.9 speaks it, over in-memory pipes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.mib import BASE, dotted, oid
from sentry_light.snmp import pass_persist
from simfarm.samples.rig import twelve_gpu_rig
from snmp_agent.pass_persist import serve
from tests.net_snmp import write_json


NOW = 1_700_000_000.0
ROOT = "." + dotted(BASE)
STATUS = "." + dotted(oid("mwSentryStatus")) + ".0"
HOSTNAME = "." + dotted(oid("mwRigHostname")) + ".0"


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "snapshot.json"
    write_json(path, twelve_gpu_rig(collected_at=NOW - 10).to_dict())
    return path


def converse(path: Path, requests: str, now: float = NOW) -> list[str]:
    """The responder's answer lines to ``requests``, ended by EOF as snmpd's close ends them."""
    out = io.BytesIO()
    serve(pass_persist.Snapshot(path, clock=lambda: now), io.BytesIO(requests.encode()), out)
    return out.getvalue().decode().splitlines()


def test_ping_before_every_request_and_get(snapshot_file):
    assert converse(snapshot_file, f"PING\nget\n{HOSTNAME}\nPING\nget\n{STATUS}\n") == [
        "PONG", HOSTNAME, "string", "rig-012", "PONG", STATUS, "integer", "1"]


def test_getnext_from_the_base_walks_everything_in_order(snapshot_file):
    lines = converse(snapshot_file, f"PING\ngetnext\n{ROOT}\n")
    assert lines == ["PONG", STATUS, "integer", "1"]
    # GETBULK reaches the responder as one PING + getnext per repetition: walk the subtree that way.
    seen, cursor = [], ROOT
    while True:
        answer = converse(snapshot_file, f"PING\ngetnext\n{cursor}\n")
        if answer[1] == "NONE":
            break
        seen.append(tuple(int(a) for a in answer[1].lstrip(".").split(".")))
        cursor = answer[1]
    assert seen == sorted(seen) and len(seen) > 12 * 15


def test_get_of_a_missing_cell_and_getnext_past_the_end_answer_none(snapshot_file):
    no_mem_temp = "." + dotted(oid("mwGpuMemTemp")) + f".{1 + 0x05 * 256}"
    assert converse(snapshot_file, f"get\n{no_mem_temp}\ngetnext\n.{dotted(BASE[:-1])}.2\n") == ["NONE", "NONE"]


def test_set_is_refused_and_its_value_and_blank_line_are_not_answered(snapshot_file):
    # net-snmp 5.9.3 sends: set, the OID, "TYPE VALUE", then a blank line; it reads one answer line.
    lines = converse(snapshot_file, f"PING\nset\n{HOSTNAME}\nstring \"x\"\n\nPING\nget\n{HOSTNAME}\n")
    assert lines == ["PONG", "not-writable", "PONG", HOSTNAME, "string", "rig-012"]


def test_set_without_blank_line_or_with_the_next_ping_glued_to_it_stays_in_step(snapshot_file):
    assert converse(snapshot_file, f"set\n{HOSTNAME}\ninteger 5\nPING\n") == ["not-writable", "PONG"]
    assert converse(snapshot_file, f"set\n{HOSTNAME}\ninteger 5PING\nget\n{STATUS}\n") == [
        "not-writable", "PONG", STATUS, "integer", "1"]


def test_a_line_it_cannot_read_gets_none_and_the_conversation_goes_on(snapshot_file, caplog):
    lines = converse(snapshot_file, f"bogus\ngetnext\nnot.an.oid\nget\n1.3.x\nPING\nget\n{STATUS}\n")
    assert lines == ["NONE", "NONE", "NONE", "PONG", STATUS, "integer", "1"]
    assert len(caplog.records) == 3


def test_eof_in_the_middle_of_a_request_ends_the_responder(snapshot_file):
    assert converse(snapshot_file, "PING\nget\n") == ["PONG"]


def test_missing_file_serves_only_the_status_down(tmp_path):
    missing = tmp_path / "none.json"
    assert converse(missing, f"get\n{STATUS}\nget\n{HOSTNAME}\ngetnext\n{STATUS}\n") == [
        STATUS, "integer", "3", "NONE", "NONE"]


def test_broken_file_serves_status_down(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"hostname": "rig-0')
    assert converse(broken, f"get\n{STATUS}\n") == [STATUS, "integer", "3"]
    broken.write_text("[1, 2]")
    assert converse(broken, f"get\n{STATUS}\n") == [STATUS, "integer", "3"]


def test_old_snapshot_is_stale_with_its_age(snapshot_file):
    age = "." + dotted(oid("mwSentrySnapshotAge")) + ".0"
    lines = converse(snapshot_file, f"get\n{STATUS}\nget\n{age}\n", now=NOW + 600)
    assert lines == [STATUS, "integer", "2", age, "gauge", "610"]


def test_the_file_is_read_again_when_it_changes(snapshot_file):
    snapshot = pass_persist.Snapshot(snapshot_file, clock=lambda: NOW)
    assert snapshot.get(oid("mwRigHostname") + (0,)).endswith(b"rig-012\n")
    data = json.loads(snapshot_file.read_text())
    data["hostname"] = "rig-013"
    write_json(snapshot_file, data)
    snapshot.refresh()
    assert snapshot.get(oid("mwRigHostname") + (0,)).endswith(b"rig-013\n")
    snapshot_file.unlink()
    snapshot.refresh()
    assert snapshot.get(oid("mwRigHostname") + (0,)) == b"NONE\n"


def test_as_a_process_it_writes_answers_only_on_stdout_and_never_logs_there(snapshot_file, tmp_path):
    """snmpd gives the responder its pipe as stderr too: a log line there would be read as an answer."""
    log = tmp_path / "responder.log"
    result = subprocess.run(
        [sys.executable, "-m", "sentry_light.snmp.pass_persist", "--snapshot", str(snapshot_file),
         "--log-file", str(log)],
        input=f"PING\nbogus\nget\n{HOSTNAME}\n", capture_output=True, check=False, text=True, timeout=30,
        cwd=Path(__file__).resolve().parents[3], env={**os.environ, "PYTHONWARNINGS": "always"})
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["PONG", "NONE", HOSTNAME, "string", "rig-012"]
    assert result.stderr == ""
    assert "bogus" in log.read_text()

