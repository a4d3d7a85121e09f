"""Each rule over a scripted run of cycles: it fires at the cycle its hold ends, stays through the
hysteresis band, resolves at the cycle the value is clearly back, and says so exactly once, with
or without a restart of the engine before every cycle."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from appliance.alerts.engine import AlertEngine, UnknownAlert
from appliance.alerts.history import read_history
from appliance.alerts.rules import SentryLink
from appliance.alerts.settings import AlertSettings
from collectors.model import Board, MinerSnapshot, RigSnapshot, unreachable
from tests.appliance.alerts.conftest import STEP_S, cycle_time, miner, rig

Change = Callable[[Any, int], None]  # mutates cycle i's healthy snapshot


@dataclass
class Script:
    rule: str
    cycles: int
    changes: dict[int, Change]  # cycle -> what differs from healthy
    expected: dict[int, list[tuple[str, str]]]  # cycle -> [(kind, part)]
    config: dict[str, Any] = field(default_factory=dict)  # [alerts.rules.<rule>]
    device: Callable[[int], Any] = miner


def over(cycles: range, change: Change) -> dict[int, Change]:
    return {i: change for i in cycles}


def chip(temp: float) -> Change:
    return lambda s, i: setattr(s.boards[1], "temp_chip_c", temp)


def board_temp(temp: float) -> Change:
    return lambda s, i: setattr(s.boards[0], "temp_board_c", temp)


def hashrate(percent: float) -> Change:
    return lambda s, i: setattr(s, "hashrate_hs", 110e12 * percent / 100)


def fan(rpm: int) -> Change:
    return lambda s, i: setattr(s.fans[2], "rpm", rpm)


def gpu_temp(temp: float) -> Change:
    return lambda s, i: setattr(s.gpus[0], "temp_c", temp)


def trex_down(s: RigSnapshot, i: int) -> None:
    s.programs[0].api_up, s.programs[0].hashrate_hs = False, None
    s.programs[0].error = "its API on 127.0.0.1:4067 did not answer within 3 s"


def trex_hashrate(percent: float) -> Change:
    return lambda s, i: setattr(s.programs[0], "hashrate_hs", 200e6 * percent / 100)


def boards_down(s: MinerSnapshot, i: int) -> None:
    """As the collectors list a board the firmware no longer reports, and one it disabled."""
    s.boards[1] = Board(index=1, chips_expected=114, status="missing")
    s.boards[2] = Board(index=2, chips_expected=114, status="disabled")


def storm(s: MinerSnapshot, i: int) -> None:
    # Two rejected shares a cycle from cycle 11 on (the healthy miner rejects none after its first 5).
    s.pools[0].rejected = 5 + 2 * (min(i, 16) - 10)


SCRIPTS = [
    # Default hold 60 s = 2 steps: true at 1, 2, 3 -> fires at 3; 88 °C is inside the 5 °C band; 84 °C resolves.
    Script("temp_chip", 8, {1: chip(95), 2: chip(95), 3: chip(95), 4: chip(88), 5: chip(84)},
           {3: [("fired", "board:1")], 5: [("resolved", "board:1")]}),
    Script("temp_board", 8, {**over(range(1, 4), board_temp(85)), 4: board_temp(78), 5: board_temp(74)},
           {3: [("fired", "board:0")], 5: [("resolved", "board:0")]}),
    # The hold restarts when the condition breaks: true at 1, not at 2, true from 3 -> fires at 5.
    Script("temp_chip", 8, {1: chip(95), **over(range(3, 6), chip(95))},
           {5: [("fired", "board:1")], 6: [("resolved", "board:1")]}),
    # Three missed polls: fires on the third, resolves on the first answer.
    Script("offline", 7, over(range(1, 5), lambda s, i: None), {3: [("fired", "")], 5: [("resolved", "")]}),
    Script("hashrate_low", 7, {**over(range(1, 4), hashrate(70)), 4: hashrate(82), 5: hashrate(90)},
           {3: [("fired", "")], 5: [("resolved", "")]}, config={"hold_s": 60}),
    # Against its own 1-hour median when the nominal rate is unknown: the median needs 10 minutes first.
    Script("hashrate_low", 25, {21: hashrate(70), 22: hashrate(82), 23: hashrate(90)},
           {21: [("fired", "")], 23: [("resolved", "")]}, config={"hold_s": 0, "reference": "median"}),
    Script("board_dead", 10,
           {**over(range(1, 4), lambda s, i: setattr(s.boards[1], "chips", 0)),
            **over(range(5, 8), lambda s, i: s.boards.pop())},
           {3: [("fired", "board:1")], 4: [("resolved", "board:1")],
            7: [("fired", "boards")], 8: [("resolved", "boards")]}),
    # Boards down since before the commander first saw the miner: they fire when the hold ends.
    Script("board_dead", 6, over(range(0, 4), boards_down),
           {2: [("fired", "board:1"), ("fired", "board:2")], 4: [("resolved", "board:1"), ("resolved", "board:2")]}),
    # 110 of 114 chips = 3.5 % missing > 2 %; 113 of 114 = 0.9 %.
    Script("chips_missing", 6, {**over(range(1, 4), lambda s, i: setattr(s.boards[0], "chips", 110)),
                                4: lambda s, i: setattr(s.boards[0], "chips", 113)},
           {3: [("fired", "board:0")], 4: [("resolved", "board:0")]}, config={"hold_s": 60}),
    # Stopped, then 550 rpm: inside the 100 rpm band above 500; 4000 rpm resolves.
    Script("fan_slow", 7, {**over(range(1, 4), fan(0)), 4: fan(550), 5: fan(4000)},
           {3: [("fired", "fan:2")], 5: [("resolved", "fan:2")]}),
    # Default hold 120 s = 4 steps.
    Script("pool_dead", 8, over(range(1, 6), lambda s, i: [setattr(p, "status", "dead") for p in s.pools]),
           {5: [("fired", "")], 6: [("resolved", "")]}),
    # Over the last 10 polls: 6 rejected of 106 (5.7 %) fires at 13; it resolves at 24, when the
    # storm's last 2 cycles leave 4 of 104 (3.8 %, under 5 - 1 %) in the window.
    Script("rejection_high", 26, over(range(11, 26), storm), {13: [("fired", "")], 24: [("resolved", "")]}),
    # An event: told once, never resolved, and not told again while the new uptime grows.
    Script("rebooted", 7, over(range(3, 7), lambda s, i: setattr(s, "uptime_s", 30 * (i - 2))),
           {3: [("fired", "")]}),
    Script("wrong_pool", 6,
           over(range(2, 4), lambda s, i: setattr(s.pools[0], "url", "stratum+tcp://evil.example:3333")),
           {2: [("fired", "")], 4: [("resolved", "")]},
           config={"trusted_urls": ["stratum+tcp://POOL.example:3333/", "stratum+tcp://backup.example:3333"],
                   "trusted_users": ["farm"]}),
    Script("wrong_pool", 4, over(range(1, 4), lambda s, i: setattr(s.pools[0], "user", "thief.w1")),
           {1: [("fired", "")]}, config={"trusted_users": ["farm"]}),
    Script("sentry_unreachable", 6, over(range(1, 4), lambda s, i: None),
           {3: [("fired", "")], 4: [("resolved", "")]}, device=rig),
    Script("asic_sentry_unreachable", 6, over(range(1, 4), lambda s, i: None),
           {3: [("fired", "")], 4: [("resolved", "")]}, device=lambda i: SentryLink("north", "https://10.2.0.2:8443", True)),
    Script("gpu_lost", 6, over(range(1, 4), lambda s, i: s.gpus.pop(1)),
           {3: [("fired", "gpu:0000:02:00.0")], 4: [("resolved", "gpu:0000:02:00.0")]}, device=rig),
    Script("temp_gpu", 7, {**over(range(1, 4), gpu_temp(90)), 4: gpu_temp(82), 5: gpu_temp(79)},
           {3: [("fired", "gpu:0000:01:00.0")], 5: [("resolved", "gpu:0000:01:00.0")]}, device=rig),
    # T-Rex stops answering (lolMiner, never up on this rig, is not an alert); then it is gone from the list.
    Script("program_down", 6, over(range(1, 4), trex_down),
           {3: [("fired", "program:trex")], 4: [("resolved", "program:trex")]}, device=rig),
    Script("program_down", 6, over(range(1, 4), lambda s, i: s.programs.pop(1)),
           {3: [("fired", "program:xmrig")], 4: [("resolved", "program:xmrig")]}, device=rig),
    # Silent for more than forget_after_h (1 h = 120 cycles after it last answered, at cycle 0):
    # resolved as no longer watched, and not fired again.
    Script("program_down", 130, over(range(1, 130), trex_down),
           {3: [("fired", "program:trex")], 121: [("resolved", "program:trex")]},
           config={"forget_after_h": 1}, device=rig),
    # Against its own 1-hour median, known after 10 minutes; 82 % is inside the 5 % band above 80 %.
    Script("program_hashrate_low", 25, {21: trex_hashrate(70), 22: trex_hashrate(82), 23: trex_hashrate(90)},
           {21: [("fired", "program:trex")], 23: [("resolved", "program:trex")]}, config={"hold_s": 0},
           device=rig),
]


def snapshot(script: Script, i: int) -> MinerSnapshot | RigSnapshot:
    snap = script.device(i)
    change = script.changes.get(i)
    if change is None:
        return snap
    if script.rule in ("offline", "sentry_unreachable", "asic_sentry_unreachable"):
        if isinstance(snap, SentryLink):
            return SentryLink(snap.name, snap.url, False, "connection refused")
        if isinstance(snap, MinerSnapshot):
            return unreachable(snap.ip, snap.port, f"no answer on {snap.ip}:4028 within 3 s", polled_at=cycle_time(i))
        # As collectors.rig reports a sentry that did not answer: the rig's hostname is unknown.
        return RigSnapshot(hostname=snap.ip, reachable=False, error="the sentry did not answer", ip=snap.ip,
                           port=snap.port)
    if script.rule == "hashrate_low" and script.config.get("reference") == "median":
        snap.hashrate_nominal_hs = None
    change(snap, i)
    return snap


def settings_for(script: Script) -> AlertSettings:
    return AlertSettings.from_mapping({"rules": {script.rule: script.config}}, "test [alerts]")


def run(script: Script, state_path, restart_every_cycle: bool) -> dict[int, list[tuple[str, str, str]]]:
    rules = settings_for(script).rules
    engine = AlertEngine(rules, state_path, clock=lambda: cycle_time(0))
    seen = {}
    for i in range(script.cycles):
        if restart_every_cycle:
            engine = AlertEngine(rules, state_path, clock=lambda: cycle_time(0))
        transitions = engine.evaluate(cycle_time(i), [snapshot(script, i)])
        if transitions:
            seen[i] = [(t.kind, t.alert.rule, t.alert.part) for t in transitions]
    return seen


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted-every-cycle"])
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: f"{s.rule}-{s.cycles}")
def test_rule_fires_and_resolves_once_at_the_right_cycle(script, restart, tmp_path):
    expected = {i: [(kind, script.rule, part) for kind, part in rows] for i, rows in script.expected.items()}
    assert run(script, tmp_path / "alerts.json", restart) == expected


def test_every_rule_has_a_script():
    from appliance.alerts.rules import RULES
    assert {s.rule for s in SCRIPTS} == set(RULES)


def test_history_records_fired_acknowledged_resolved_and_ack_survives_a_restart(tmp_path):
    state = tmp_path / "alerts.json"
    script = SCRIPTS[0]
    rules = settings_for(script).rules
    engine = AlertEngine(rules, state, clock=lambda: cycle_time(3) + 5)
    for i in range(4):
        engine.evaluate(cycle_time(i), [snapshot(script, i)])
    (alert,) = engine.firing()
    assert alert.id == "10.0.0.5/temp_chip/board:1" and alert.value == 95 and alert.threshold == 90
    engine.acknowledge(alert.id, by="ana")
    with pytest.raises(UnknownAlert, match="no firing alert"):
        engine.acknowledge("10.0.0.5/fan_slow/fan:0", by="ana")

    engine = AlertEngine(rules, state, clock=lambda: cycle_time(9))
    assert engine.firing()[0].acked_by == "ana"
    for i in range(4, 6):
        engine.evaluate(cycle_time(i), [snapshot(script, i)])

    events = [(e["event"], e["at"], e.get("by")) for e in read_history(engine.state_path)]
    assert events == [("fired", cycle_time(3), None), ("acknowledged", cycle_time(3) + 5, "ana"),
                      ("resolved", cycle_time(5), None)]
    assert [e["event"] for e in read_history(engine.state_path, since=cycle_time(4))] == ["resolved"]
    assert engine.firing() == []


def test_a_hold_nobody_watched_starts_again(tmp_path):
    """Pending at cycle 1, then the commander is down for an hour: the hold counts from its return."""
    rules = settings_for(SCRIPTS[0]).rules
    engine = AlertEngine(rules, tmp_path / "alerts.json", max_gap_s=600)
    hot = miner(1)
    hot.boards[1].temp_chip_c = 95
    assert engine.evaluate(cycle_time(1), [hot]) == []
    back = cycle_time(1) + 3600
    assert engine.evaluate(back, [hot]) == []
    (fired,) = engine.evaluate(back + 60, [hot])
    assert fired.kind == "fired" and fired.alert.since == back


def test_an_unreachable_device_keeps_its_alerts_until_it_can_be_judged(tmp_path):
    rules = settings_for(SCRIPTS[0]).rules
    engine = AlertEngine(rules, tmp_path / "alerts.json")
    hot = miner(0)
    hot.boards[1].temp_chip_c = 95
    engine.evaluate(cycle_time(0), [hot])
    engine.evaluate(cycle_time(2), [hot])
    gone = unreachable("10.0.0.5", 4028, "no answer")
    kinds = [[(t.kind, t.alert.rule) for t in engine.evaluate(cycle_time(i), [gone])] for i in range(3, 6)]
    assert kinds == [[], [], [("fired", "offline")]]
    assert {a.rule for a in engine.firing()} == {"temp_chip", "offline"}
    resolved = engine.evaluate(cycle_time(6), [miner(6)])
    assert sorted(t.alert.rule for t in resolved) == ["offline", "temp_chip"]


def test_state_is_replaced_atomically_and_a_newer_one_is_one_clear_error(tmp_path):
    from appliance.alerts.engine import StateError
    state = tmp_path / "alerts.json"
    engine = AlertEngine(settings_for(SCRIPTS[0]).rules, state)
    engine.evaluate(cycle_time(0), [miner(0)])
    assert [p.name for p in tmp_path.iterdir()] == ["alerts.json"]  # no temp file left behind
    state.write_text('{"version": 2, "alerts": {}, "devices": {}}')
    with pytest.raises(StateError, match=f"^{state} was written by a newer minerwatch .* it is left as it is$"):
        AlertEngine(settings_for(SCRIPTS[0]).rules, state)
    assert [p.name for p in tmp_path.iterdir()] == ["alerts.json"]


def test_disabled_rules_stay_silent(tmp_path):
    script = dataclasses.replace(SCRIPTS[0], config={"enabled": False})
    assert run(script, tmp_path / "alerts.json", False) == {}


def test_counts_describe_the_farm(tmp_path):
    engine = AlertEngine(settings_for(SCRIPTS[0]).rules, tmp_path / "alerts.json")
    for i in range(4):
        engine.evaluate(cycle_time(i), [snapshot(SCRIPTS[0], i), unreachable("10.0.0.6", 4028, "no answer"), rig(i)])
    assert engine.counts() == {"devices": 3, "answering": 2, "firing": 2, "critical": 2}
    assert STEP_S == 30.0  # the scripts above count holds in 30 s steps


def test_a_device_removed_from_the_inventory_is_forgotten(tmp_path):
    engine = AlertEngine(settings_for(SCRIPTS[0]).rules, tmp_path / "alerts.json", clock=lambda: cycle_time(9))
    gone = unreachable("10.0.0.6", 4028, "no answer")
    for i in range(3):
        engine.evaluate(cycle_time(i), [miner(i), gone])
    (closed,) = engine.forget("10.0.0.6")
    assert closed.rule == "offline" and engine.firing() == []
    assert AlertEngine(settings_for(SCRIPTS[0]).rules, tmp_path / "alerts.json").counts()["devices"] == 1
    assert read_history(engine.state_path)[-1]["by"] == "removed from the inventory"


def test_a_rig_alert_names_the_rig_as_it_calls_itself(tmp_path):
    rules = AlertSettings.from_mapping({"rules": {"temp_gpu": {"hold_s": 0}}}, "test [alerts]").rules
    engine = AlertEngine(rules, tmp_path / "alerts.json", clock=lambda: cycle_time(0))
    hot = rig(0, hostname="rig-07")
    hot.gpus[0].temp_c = 91.0
    [transition] = engine.evaluate(cycle_time(0), [hot])
    assert transition.alert.device == "10.0.5.7"
    assert transition.alert.message == "rig-07: GPU 0000:01:00.0 is at 91.0 °C (limit 85 °C)"


def test_what_a_device_is_remembered_by_stays_bounded(tmp_path):
    # Rewritten every cycle for every device: an hour of samples at most, and only the share totals
    # the rejection rule's window needs (a sample a minute and 30 totals made a 10,000-miner farm's
    # state 24 MB, and its rewriting seven seconds a cycle).
    rules = AlertSettings.from_mapping({"rules": {"rejection_high": {"window_polls": 4}}}, "test [alerts]").rules
    engine = AlertEngine(rules, tmp_path / "alerts.json", clock=lambda: cycle_time(0))
    for i in range(240):  # two hours at 30 s
        snap = miner(i)
        snap.pools[0].accepted = 100 * i
        engine.evaluate(cycle_time(i), [snap])
    [remembered] = engine.devices.values()
    assert len(remembered.hashrates) <= 13 and len(remembered.shares) == 5
    assert remembered.hashrates[-1][0] - remembered.hashrates[0][0] <= 3600
