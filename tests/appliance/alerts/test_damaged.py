"""A damaged alert file costs that file: alerts.json and the outbox are set aside and the alerting
starts afresh (alerts fire again while their condition holds; the outbox's sound messages are
still sent); a damaged history line is skipped and counted, its file kept. A file that cannot be
read is not damaged: one sentence, nothing renamed."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from appliance.alerts import history
from appliance.alerts.dispatch import Dispatcher
from appliance.alerts.engine import AlertEngine
from appliance.alerts.message import from_transition
from appliance.alerts.settings import AlertSettings
from tests.appliance.alerts.conftest import cycle_time, miner
from tests.appliance.alerts.test_dispatch import webhook
from tests.appliance.damage import (as_another_user, lines_naming, random_bytes, reachable_by_anyone,
                                    set_aside_copy, truncated, zero_length)
from tests.conftest import until

RULES = AlertSettings.from_mapping({"rules": {"temp_chip": {"hold_s": 0}}}, "test").rules


def engine(state):
    return AlertEngine(RULES, state)


def hot(i: int):
    snap = miner(i)
    snap.boards[1].temp_chip_c = 95.0
    return snap


def rewrite(change):
    """A damage that rewrites the JSON a file holds."""
    def damage(path):
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    return damage


def first_alert(state: dict) -> dict:
    return next(iter(state["alerts"].values()))


STATE_DAMAGE = {
    "truncated": truncated, "random bytes": random_bytes, "zero length": zero_length,
    "a list": rewrite(lambda state: [state]),
    "a string where a number is": rewrite(lambda state: first_alert(state).update(since="yesterday") or state),
    "a sample that is not a pair": rewrite(
        lambda state: next(iter(state["devices"].values())).update(hashrates=[[1.0, 2.0, 3.0]]) or state),
    "firing with no fired_at": rewrite(lambda state: first_alert(state).update(fired_at=None) or state),
    "an unknown version": rewrite(lambda state: state | {"version": 0}),
}


@pytest.mark.parametrize("damage", list(STATE_DAMAGE.values()), ids=list(STATE_DAMAGE))
def test_a_damaged_alert_state_is_set_aside_and_alerts_fire_again(tmp_path, caplog, damage):
    state = tmp_path / "alerts.json"
    assert [t.kind for t in engine(state).evaluate(cycle_time(0), [hot(0)])] == ["fired"]
    months = {p: p.read_bytes() for p in history.segments(state)}
    damage(state)
    damaged = state.read_bytes()
    restarted = engine(state)  # starts
    assert restarted.firing() == []
    assert set_aside_copy(state).read_bytes() == damaged
    [line] = lines_naming(caplog, state)
    assert "starting with no alerts: those whose condition still holds fire again" in line
    fired = restarted.evaluate(cycle_time(1), [hot(1)])
    assert [(t.kind, t.alert.id) for t in fired] == [("fired", "10.0.0.5/temp_chip/board:1")]
    assert json.loads(state.read_text())["alerts"]  # saved afresh
    assert all(path.read_bytes().startswith(before) for path, before in months.items())  # history kept


def test_an_alert_state_it_may_not_read_stops_the_engine_with_one_sentence_and_stays():
    with reachable_by_anyone() as shared:
        state = shared / "alerts.json"
        engine(state).evaluate(cycle_time(0), [hot(0)])
        state.chmod(0)
        done = as_another_user(
            "import sys; from pathlib import Path; from appliance.alerts.engine import AlertEngine, StateError; "
            "from tests.appliance.alerts.test_damaged import RULES\n"
            "try: AlertEngine(RULES, Path(sys.argv[1]))\nexcept StateError as exc: print(exc)", str(state))
        assert done.stdout == (f"{state} cannot be read (Permission denied); it is not damaged, so it is left "
                               "as it is\n")
        assert not list(shared.glob("*.corrupt-*"))


def outbox_of(tmp_path, receiver, messages: int = 3):
    """An outbox file holding ``messages`` messages for channel ops, written by a dispatcher that
    was never started (so it sent nothing)."""
    path = tmp_path / "outbox.json"
    transitions = [t for i in range(messages) for t in engine(tmp_path / f"alerts-{i}.json").evaluate(
        cycle_time(i), [hot(i)])]
    Dispatcher([webhook(receiver)], path).submit(from_transition(t) for t in transitions)
    return path


OUTBOX_DAMAGE = {
    "truncated": truncated, "random bytes": random_bytes, "zero length": zero_length,
    "a list": rewrite(lambda outbox: [outbox]),
    "pending not a list": rewrite(lambda outbox: outbox | {"pending": 3}),
    "a newer version": rewrite(lambda outbox: outbox | {"version": 2}),
}


@pytest.mark.parametrize("damage", list(OUTBOX_DAMAGE.values()), ids=list(OUTBOX_DAMAGE))
async def test_a_damaged_outbox_is_set_aside_and_the_dispatcher_starts_empty(tmp_path, caplog, receiver, damage):
    path = outbox_of(tmp_path, receiver)
    damage(path)
    damaged = path.read_bytes()
    async with Dispatcher([webhook(receiver)], path) as dispatcher:
        assert dispatcher.pending() == {"ops": 0}
    assert set_aside_copy(path).read_bytes() == damaged
    [line] = lines_naming(caplog, path)
    assert line.endswith(", starting with an empty outbox")


async def test_a_damaged_message_costs_that_message_the_others_are_sent(tmp_path, caplog, receiver):
    path = outbox_of(tmp_path, receiver)
    outbox = json.loads(path.read_text())
    outbox["pending"][1]["message"]["at"] = "noon"
    outbox["pending"].append(["not", "a", "row"])
    path.write_text(json.dumps(outbox))
    damaged = path.read_bytes()
    async with Dispatcher([webhook(receiver)], path) as dispatcher:
        await until(lambda: len(receiver.posts()) == 2 and dispatcher.pending() == {"ops": 0}, "the two sound messages")
    assert [post["json"]["at"] for post in receiver.posts()] == [cycle_time(0), cycle_time(2)]
    assert set_aside_copy(path).read_bytes() == damaged
    [line] = lines_naming(caplog, path)
    assert "(2 of its 4 messages are not messages)" in line and line.endswith("sending the 2 others")
    assert json.loads(path.read_text())["pending"] == []  # the new outbox


def test_an_outbox_it_may_not_read_is_one_sentence_and_stays():
    with reachable_by_anyone() as shared:
        path = shared / "outbox.json"
        path.write_text('{"version": 1, "pending": []}')
        path.chmod(0)
        done = as_another_user(
            "import sys; from pathlib import Path; from appliance.alerts.dispatch import Dispatcher; "
            "from appliance.damaged import StateFileError\n"
            "try: Dispatcher([], Path(sys.argv[1]))\nexcept StateFileError as exc: print(exc)", str(path))
        assert done.stdout == f"{path} cannot be read (Permission denied); it is not damaged, so it is left as it is\n"
        assert not list(shared.glob("*.corrupt-*"))


def test_damaged_history_lines_are_skipped_and_counted_and_the_file_kept(tmp_path, caplog):
    state = tmp_path / "alerts.json"
    alerts = engine(state)
    alerts.evaluate(cycle_time(0), [hot(0)])
    month = history.month_path(state, cycle_time(0))
    with month.open("ab") as out:
        out.write(b'{"at": "noon", "event": "fired", "id": "x", "device": "x", "rule": "x"}\n')
        out.write(b"[1, 2]\n")
        out.write(bytes(range(128, 256)) + b"\n")
        out.write(b'{"at": 17')  # cut short by a crash
    alerts.evaluate(cycle_time(1), [miner(1)])  # resolves, appending to the same month
    kept = month.read_bytes()
    events = history.read_history(state)
    assert [(e["event"], e["at"]) for e in events] == [("fired", cycle_time(0)), ("resolved", cycle_time(1))]
    history.read_history(state)
    [line] = lines_naming(caplog, month, logging.WARNING)
    assert line == f"{month} has 4 damaged line(s) of 6; they are skipped, and the file kept as it is"
    assert month.read_bytes() == kept and not list(tmp_path.glob("*.corrupt-*"))


def test_minerwatch_alerts_reads_the_state_and_says_in_one_sentence_when_it_is_damaged(tmp_path):
    state = tmp_path / "alerts.json"
    engine(state).evaluate(cycle_time(0), [hot(0)])

    def alerts_command():
        return subprocess.run([sys.executable, "-m", "appliance.cli", "alerts", "--state-dir", str(tmp_path),
                               "--history", "0"], capture_output=True, text=True, timeout=60)

    shown = alerts_command()
    assert shown.returncode == 0 and shown.stdout.splitlines()[0] == "1 alerts firing"
    assert "10.0.0.5/temp_chip/board:1: chip temperature on board 1 is 95.0" in shown.stdout
    rewrite(lambda state: [state])(state)
    damaged = alerts_command()
    assert (damaged.returncode, damaged.stdout) == (2, "")
    assert damaged.stderr == (f"minerwatch: {state} is damaged (the top level: input should be an object); the commander "
                              "sets it aside when it starts\n")
    assert state.exists()  # a reader leaves it
