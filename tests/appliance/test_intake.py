"""The commander's intake of what people change in the web: each change applied once, in order,
refused in one sentence when it cannot be; a crash, a half-written line, a damaged intake file or
a changes file started over never applies a change twice nor stops the others."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from appliance.alerts.engine import AlertEngine
from appliance.alerts.settings import AlertSettings
from appliance.intake import CHANGES_FILE, INTAKE_FILE, Intake, handlers, outcomes
from appliance.inventory import Inventory
from tests.appliance.alerts.conftest import cycle_time, miner
from tests.appliance.test_inventory import sentry, snapshot
from web.audit import AuditLog
from web.changes import Changes

ALERT = "10.0.0.5/temp_chip/board:1"


@pytest.fixture
def engine(tmp_path) -> AlertEngine:
    """An engine with ALERT firing (chip 95 °C for three cycles)."""
    engine = AlertEngine(AlertSettings.from_mapping({}, "test").rules, tmp_path / "alerts.json",
                         clock=lambda: cycle_time(4))
    for i in range(4):
        snap = miner(i)
        if i:
            snap.boards[1].temp_chip_c = 95.0
        engine.evaluate(cycle_time(i), [snap])
    assert [a.id for a in engine.firing()] == [ALERT]
    return engine


@pytest.fixture
def inventory(tmp_path):
    with Inventory.open(tmp_path) as opened:
        opened.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A"),
                                  snapshot("10.0.3.11", "AA:00:00:00:00:0B")], at=1)
        opened.sync_rigs([sentry("10.0.5.7")])
        yield opened


@pytest.fixture
def web(tmp_path) -> Changes:
    return Changes(tmp_path, AuditLog(tmp_path))


def intake(tmp_path, engine, inventory) -> Intake:
    return Intake(tmp_path, handlers(engine, lambda: inventory))


def test_each_change_is_applied_once_in_order_and_its_outcome_is_kept_for_the_web(tmp_path, engine, inventory, web):
    first = web.record("ana", "127.0.0.1", "alert_ack", alert=ALERT)
    web.record("ana", "127.0.0.1", "alert_silence", alert=ALERT, until=cycle_time(100), reason="fans on order")
    web.record("bo", "127.0.0.1", "tags", devices=["AA:00:00:00:00:0A", "AA:00:00:00:00:0B"], add=["row-3"],
               remove=[])
    web.record("bo", "127.0.0.1", "place", device="AA:00:00:00:00:0A", site="north", rack="R3", location="2-5")
    assert web.outcome(first) is None  # the commander has not looked yet

    done = intake(tmp_path, engine, inventory).apply_new(now=50)
    assert [(o["kind"], o["outcome"]) for o in done] == [
        ("alert_ack", "applied"), ("alert_silence", "applied"), ("tags", "applied"), ("place", "applied")]
    assert engine.alerts[ALERT].acked_by == "ana"
    assert engine.silenced(ALERT, cycle_time(5)).reason == "fans on order"
    placed = inventory.get("AA:00:00:00:00:0A")
    assert (placed.site, placed.rack, placed.location, placed.tags, placed.placed_by) == (
        "north", "R3", "2-5", ("row-3",), "bo")
    assert web.outcome(first) == {"kind": "alert_ack", "by": "ana", "outcome": "applied",
                                  "why": f"alert {ALERT} acknowledged", "at": 50}
    # A new intake (the commander restarted) finds nothing new; nothing is applied twice.
    assert intake(tmp_path, engine, inventory).apply_new(now=60) == []
    # Discovery sees the placed miner again: the person's site stays.
    inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A")], at=70, site_for=lambda ip: "default")
    assert inventory.get("AA:00:00:00:00:0A").site == "north"


def test_what_cannot_be_applied_is_refused_in_one_sentence_and_the_rest_goes_on(tmp_path, engine, inventory, web):
    [rig] = [d.key for d in inventory.devices() if d.kind == "rig"]
    inventory.sync_configured([])  # nothing configured but the rig's sentry
    ids = [web.record("ana", None, "alert_ack", alert="10.9.9.9/temp_chip/board:0"),
           web.record("ana", None, "place", device=rig, site="north", rack=None, location=None),
           web.record("ana", None, "place", device="no-such-key", site="north", rack=None, location=None),
           web.record("ana", None, "tags", devices=["AA:00:00:00:00:0A", rig], add=["x"], remove=[])]
    path = tmp_path / CHANGES_FILE
    with path.open("a") as file:
        file.write("not json\n")
        file.write(json.dumps({"id": "k1", "at": 1.0, "by": "eve", "kind": "reboot_everything"}) + "\n")
        file.write(json.dumps({"id": "k2", "at": 1.0, "by": "eve", "kind": "place", "device": 5}) + "\n")
    ids.append(web.record("ana", None, "alert_ack", alert=ALERT))

    intake(tmp_path, engine, inventory).apply_new(now=50)
    said = outcomes(tmp_path)
    assert said[ids[0]]["why"] == "alert 10.9.9.9/temp_chip/board:0 is no longer pending or firing"
    assert said[ids[1]]["why"] == ("10.0.5.7 is listed in the configuration, which sets its place and tags: "
                                   "change it there")
    assert said[ids[2]]["why"] == "no device has the key 'no-such-key'"
    assert said[ids[3]] | {"at": 0} == {"kind": "tags", "by": "ana", "outcome": "applied", "at": 0,
                                        "why": "tags changed on 1 of 2 device(s); 1 left as they are "
                                               "(listed in the configuration, or unknown)"}
    assert said["k1"]["why"] == "this commander does not apply changes of kind 'reboot_everything'"
    assert said["k2"]["outcome"] == "refused" and said["k2"]["why"].startswith("the change is not a place change")
    assert said[ids[4]]["outcome"] == "applied" and engine.alerts[ALERT].acked_by == "ana"


def test_a_half_written_line_waits_and_a_crash_before_saving_applies_nothing_twice(tmp_path, engine, inventory,
                                                                                     web):
    web.record("ana", None, "tags", devices=["AA:00:00:00:00:0A"], add=["a"], remove=[])
    path = tmp_path / CHANGES_FILE
    with path.open("a") as file:
        file.write('{"id": "half", "at": 1.0, "by": "bo", "kind": "tags", "devices": ["AA:00:00:00:00:0A"], ')
    first = intake(tmp_path, engine, inventory)
    assert len(first.apply_new(now=1)) == 1
    saved = (tmp_path / INTAKE_FILE).read_bytes()
    with path.open("a") as file:
        file.write('"add": ["b"], "remove": ["a"]}\n')
    assert [o["why"] for o in first.apply_new(now=2)] == ["tags changed on 1 of 1 device(s)"]
    assert inventory.get("AA:00:00:00:00:0A").tags == ("b",)
    # The commander died after applying, before saving its place: the next one applies it again,
    # and a tag change is the same change twice.
    (tmp_path / INTAKE_FILE).write_bytes(saved)
    assert [o["why"] for o in intake(tmp_path, engine, inventory).apply_new(now=3)] == [
        "tags changed on 0 of 1 device(s)"]
    assert inventory.get("AA:00:00:00:00:0A").tags == ("b",)


def test_a_changes_file_started_over_is_read_from_its_start_without_repeating_what_was_applied(
        tmp_path, engine, inventory, web):
    kept = web.record("ana", None, "tags", devices=["AA:00:00:00:00:0A"], add=["a"], remove=[])
    reader = intake(tmp_path, engine, inventory)
    reader.apply_new(now=1)
    path = tmp_path / CHANGES_FILE
    lines = path.read_text()
    path.unlink()  # moved away by hand, say, and the old line copied back with a new one after it
    path.write_text(lines)
    fresh = web.record("ana", None, "tags", devices=["AA:00:00:00:00:0A"], add=["c"], remove=[])
    assert [o["why"] for o in reader.apply_new(now=2)] == ["tags changed on 1 of 1 device(s)"]
    assert set(outcomes(tmp_path)) == {kept, fresh}


def test_a_damaged_intake_file_is_set_aside_and_old_changes_are_not_applied_again(tmp_path, engine, inventory, web,
                                                                                    caplog):
    web.record("ana", None, "tags", devices=["AA:00:00:00:00:0A"], add=["a"], remove=[])
    intake(tmp_path, engine, inventory).apply_new(now=1)
    inventory.retag(["AA:00:00:00:00:0A"], [], ["a"])  # the tag was taken off since
    (tmp_path / INTAKE_FILE).write_text('{"offset": "x"')
    reader = intake(tmp_path, engine, inventory)
    assert [p.name.startswith(f"{INTAKE_FILE}.corrupt-") for p in tmp_path.iterdir()].count(True) == 1
    assert "the web's changes not applied yet are skipped" in caplog.text
    assert reader.apply_new(now=2) == [] and inventory.get("AA:00:00:00:00:0A").tags == ()
    web.record("ana", None, "tags", devices=["AA:00:00:00:00:0A"], add=["b"], remove=[])
    assert len(reader.apply_new(now=3)) == 1 and inventory.get("AA:00:00:00:00:0A").tags == ("b",)


def test_the_changes_file_is_the_webs_own_and_private(tmp_path, web):
    web.record("ana", "10.0.0.9", "alert_ack", alert=ALERT)
    path = tmp_path / CHANGES_FILE
    assert os.stat(path).st_mode & 0o777 == 0o600
    audit = [json.loads(line) for line in (tmp_path / "web" / "audit.jsonl").read_text().splitlines()]
    assert [(a["who"], a["what"], a["from"], a["alert"]) for a in audit] == [("ana", "alert_ack", "10.0.0.9", ALERT)]
    with pytest.raises(ValueError):
        web.record("ana", None, "format_disk")
    assert Path(path).read_text().count("\n") == 1


def test_discovered_addresses_join_placed_and_tagged_and_a_made_up_driver_is_refused(tmp_path, engine, inventory,
                                                                                       web):
    fine = web.record("ana", None, "add_devices", devices=[{"ip": "10.0.4.1", "port": 4028, "driver": "antminer"},
                                                           {"ip": "10.0.4.2", "port": None, "driver": None}],
                      site="north", rack="R9", tags=["new"])
    bad = web.record("ana", None, "add_devices", devices=[{"ip": "10.0.4.3", "port": 1, "driver": "rm -rf"}],
                     site="north", rack=None, tags=[])
    intake(tmp_path, engine, inventory).apply_new(now=1)
    said = outcomes(tmp_path)
    assert said[fine]["why"] == "2 device(s) in the inventory at north"
    assert said[bad]["why"] == "no driver is called 'rm -rf'"
    added = {d.ip: d for d in inventory.devices() if d.ip in ("10.0.4.1", "10.0.4.2", "10.0.4.3")}
    assert {ip: (d.driver, d.site, d.rack, d.tags, d.placed_by) for ip, d in added.items()} == {
        "10.0.4.1": ("antminer", "north", "R9", ("new",), "ana"), "10.0.4.2": (None, "north", "R9", ("new",), "ana")}
