"""The dispatcher and the service around it, against a real HTTP receiver: one message per
transition (not per cycle), retries with back-off while the poll cycle never waits, a restart that
neither loses nor repeats, only the MASTER sends, the heartbeat and the daily summary."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial

import pytest

from appliance import ha
from appliance.alerts.channels.heartbeat import Heartbeat
from appliance.alerts.channels.webhook import WebhookChannel
from appliance.alerts.dispatch import Dispatcher
from appliance.alerts.engine import AlertEngine, UnknownAlert, read_alert_state
from appliance.alerts.history import read_history
from appliance.alerts.message import summary
from appliance.alerts.service import AlertService
from appliance.alerts.settings import AlertSettings, ChannelSettings
from tests.appliance.alerts.conftest import cycle_time, miner
from tests.appliance.alerts.test_channels import fired
from tests.conftest import until

FAST_RETRY = {"retry_base_s": 0.01, "retry_max_s": 0.05}  # back-off in real time; the tests measure none of it


def webhook(receiver, name: str = "ops", **table) -> WebhookChannel:
    return WebhookChannel(ChannelSettings.from_mapping(
        {"name": name, "type": "webhook", "url": receiver.url + f"/{name}", **FAST_RETRY, **table}, "test"))


def hot_cycles(cycles: int = 10, start: int = 0):
    """Chip 95 °C from cycle start+1 to start+6, then healthy: fires at start+3 (60 s hold), resolves at start+7."""
    for i in range(start, start + cycles):
        snap = miner(i)
        if start + 1 <= i <= start + 6:
            snap.boards[1].temp_chip_c = 95.0
        yield i, snap


def service(tmp_path, channels, role_file=None, summary_at=None, heartbeat=None) -> AlertService:
    settings = AlertSettings.from_mapping({"ha_role_file": str(role_file or tmp_path / "no-role")}, "test")
    engine = AlertEngine(settings.rules, tmp_path / "alerts.json", clock=lambda: cycle_time(0))
    role = partial(ha.role, settings.ha_role_file)
    return AlertService(engine, Dispatcher(channels, tmp_path / "outbox.json", role=role), heartbeat, summary_at)


async def test_one_message_per_transition_not_per_cycle(receiver, tmp_path):
    async with service(tmp_path, [webhook(receiver)]) as alerts:
        for i, snap in hot_cycles():
            alerts.cycle(cycle_time(i), [snap])
        await until(lambda: alerts.dispatcher.pending() == {"ops": 0}, "delivery of everything queued")
    bodies = [r["json"] for r in receiver.posts()]
    assert [(b["kind"], b["alert_id"], b["at"]) for b in bodies] == [
        ("fired", "10.0.0.5/temp_chip/board:1", cycle_time(3)),
        ("resolved", "10.0.0.5/temp_chip/board:1", cycle_time(7))]
    assert len(receiver.requests) == 2


async def test_a_down_receiver_gets_the_message_after_retries_and_the_caller_never_waits(receiver, tmp_path):
    receiver.fail_first = 3
    async with Dispatcher([webhook(receiver)], tmp_path / "outbox.json") as dispatcher:
        dispatcher.submit([fired()])
        # submit returned without a single await: nothing can have been sent yet, but it is owed on disk.
        assert receiver.requests == []
        assert len(json.loads((tmp_path / "outbox.json").read_text())["pending"]) == 1
        await until(lambda: dispatcher.health["ops"].delivered == 1, "delivery after the receiver recovers")
    assert [r["status"] for r in receiver.requests] == [503, 503, 503, 200]
    assert json.loads((tmp_path / "outbox.json").read_text())["pending"] == []


async def test_a_failing_channel_says_since_when_and_why_until_it_delivers_again(receiver, tmp_path):
    receiver.fail_first = 3
    async with Dispatcher([webhook(receiver)], tmp_path / "outbox.json") as dispatcher:
        dispatcher.submit([fired()])
        await until(lambda: dispatcher.status()["ops"].failed_attempts >= 2, "two failed attempts")
        failing = dispatcher.status()["ops"]
        assert failing.failing_since is not None and failing.pending == 1
        assert "503" in failing.last_error
        await until(lambda: dispatcher.health["ops"].delivered == 1, "delivery after the receiver recovers")
        recovered = dispatcher.status()["ops"]
    assert (recovered.failing_since, recovered.failed_attempts, recovered.last_error, recovered.pending) == (
        None, 0, None, 0)


async def test_one_channel_down_delays_nobody_else(receiver, tmp_path):
    receiver.down_paths = {"/down"}
    down = webhook(receiver, "down", retry_attempts=1000)
    up = webhook(receiver, "up")
    async with Dispatcher([down, up], tmp_path / "outbox.json") as dispatcher:
        dispatcher.submit([fired(95), fired(96)])
        await until(lambda: dispatcher.health["up"].delivered == 2, "both messages on the live channel")
        assert dispatcher.pending() == {"down": 2, "up": 0}
    assert {r["path"] for r in receiver.requests if r["status"] == 503} == {"/down"}


async def test_a_restart_sends_what_was_owed_once(receiver, tmp_path):
    receiver.fail_first = 10**6
    async with Dispatcher([webhook(receiver)], tmp_path / "outbox.json") as dispatcher:
        dispatcher.submit([fired()])
        await until(lambda: len(receiver.requests) >= 2, "a few failed attempts")
    receiver.fail_first = 0
    receiver.requests.clear()
    async with Dispatcher([webhook(receiver)], tmp_path / "outbox.json") as dispatcher:
        await until(lambda: dispatcher.health["ops"].delivered == 1, "the owed message after the restart")
    assert [r["json"]["key"] for r in receiver.requests] == [fired().key]


async def test_a_refused_message_is_dropped_after_one_attempt(receiver, tmp_path):
    receiver.fail_first, receiver.fail_status = 1, 400
    async with Dispatcher([webhook(receiver)], tmp_path / "outbox.json") as dispatcher:
        dispatcher.submit([fired(95), fired(96)])
        await until(lambda: dispatcher.health["ops"].delivered == 1, "the second message")
    assert dispatcher.health["ops"].dropped == 1
    assert [r["status"] for r in receiver.requests] == [400, 200]


async def test_min_severity_filters_alerts_but_not_the_summary(receiver, tmp_path):
    async with Dispatcher([webhook(receiver, min_severity="critical")], tmp_path / "outbox.json") as dispatcher:
        warning = fired()
        dispatcher.submit([type(warning)(**{**warning.to_dict(), "severity": "warning"}),
                           summary(cycle_time(0), {"devices": 1, "answering": 1, "firing": 0}, [], [])])
        await until(lambda: dispatcher.pending() == {"ops": 0}, "the queue to empty")
    assert [r["json"]["kind"] for r in receiver.requests] == ["summary"]


async def test_a_backup_sends_nothing_and_its_heartbeat_is_silent(receiver, tmp_path):
    role_file = tmp_path / "ha-role"
    role_file.write_text("BACKUP\n")
    beat = Heartbeat(receiver.url + "/ping", role=partial(ha.role, role_file))
    async with service(tmp_path, [webhook(receiver)], role_file=role_file, heartbeat=beat) as alerts:
        transitions = []
        for i, snap in hot_cycles():
            transitions += alerts.cycle(cycle_time(i), [snap])
        assert [t.kind for t in transitions] == ["fired", "resolved"]  # it still evaluates and records
        assert alerts.dispatcher.pending() == {"ops": 0}

        role_file.write_text("MASTER\n")  # keepalived moved the address here
        for i, snap in hot_cycles(start=20):
            alerts.cycle(cycle_time(i), [snap])
        await until(lambda: alerts.dispatcher.health["ops"].delivered == 2 and beat.sent > 0, "the new MASTER's messages")
    assert [r["json"]["at"] for r in receiver.posts() if r["path"] == "/ops"] == [cycle_time(23), cycle_time(27)]


async def test_the_heartbeat_pings_each_cycle_without_holding_it(receiver, tmp_path):
    beat = Heartbeat(receiver.url + "/ping")
    async with service(tmp_path, [], heartbeat=beat) as alerts:
        for i in range(3):
            alerts.cycle(cycle_time(i), [miner(i)])
            await until(lambda sent=i + 1: beat.sent == sent, f"ping {i + 1}")
    assert [(r["method"], r["path"]) for r in receiver.requests] == [("GET", "/ping")] * 3


async def test_the_daily_summary_goes_once_a_day_at_its_time(receiver, tmp_path):
    at = dt.time(9, 0)
    nine = dt.datetime.combine(dt.datetime.fromtimestamp(cycle_time(0)).date(), at).timestamp()
    async with service(tmp_path, [webhook(receiver)], summary_at=at) as alerts:
        for i, snap in hot_cycles(5):  # fires at cycle 3, still firing when the summary goes
            alerts.cycle(nine - 3600 + 30 * i, [snap])
        for k, now in enumerate((nine - 1, nine, nine + 30, nine + 86400 - 1, nine + 86400)):
            snap = miner(5 + k)
            snap.boards[1].temp_chip_c = 95.0
            alerts.cycle(now, [snap])
        await until(lambda: alerts.dispatcher.pending() == {"ops": 0}, "the queue to empty")
    summaries = [r["json"] for r in receiver.posts() if r["json"]["kind"] == "summary"]
    assert [s["at"] for s in summaries] == [nine, nine + 86400]
    first = summaries[0]["text"]
    assert "Devices: 1, 1 answering their last poll" in first and "Firing now: 1 (1 critical)" in first
    assert "Last 24 h: 1 fired, 0 resolved, 0 acknowledged" in first
    assert "10.0.0.5 board:1  temp_chip  since " in first


async def test_a_silenced_alert_is_judged_and_recorded_but_never_sent(receiver, tmp_path):
    """Silenced while firing: neither its resolution nor its firing again within the silence reaches
    a channel; the history has all of it. Once the silence ends, the next firing is sent."""
    async with service(tmp_path, [webhook(receiver)]) as alerts:
        for i, snap in hot_cycles(4):
            alerts.cycle(cycle_time(i), [snap])
        (alert,) = alerts.engine.firing()
        alerts.engine.silence(alert.id, until=cycle_time(20), by="ana", reason="fans on order")
        # Still hot until cycle 6 (resolves at 7); hot again 9-14 (fires at 11, resolves at 15); the
        # silence ends at 20; hot again 21-26 (fires at 23, resolves at 27).
        for i, snap in [*hot_cycles(8)][4:] + [*hot_cycles(10, start=8)] + [*hot_cycles(8, start=20)]:
            alerts.cycle(cycle_time(i), [snap])
        await until(lambda: alerts.dispatcher.pending() == {"ops": 0}, "delivery of everything queued")
    sent = [(r["json"]["kind"], r["json"]["at"]) for r in receiver.posts()]
    assert sent == [("fired", cycle_time(3)), ("fired", cycle_time(23)), ("resolved", cycle_time(27))]
    events = [(e["event"], e["at"]) for e in read_history(alerts.engine.state_path)]
    assert events[:3] == [("fired", cycle_time(3)), ("silenced", cycle_time(0)), ("resolved", cycle_time(7))]
    assert ("fired", cycle_time(11)) in events and ("resolved", cycle_time(15)) in events


def test_a_silence_survives_a_restart_and_ends_by_itself_or_on_request(tmp_path):
    settings = AlertSettings.from_mapping({}, "test")
    engine = AlertEngine(settings.rules, tmp_path / "alerts.json", clock=lambda: cycle_time(0))
    for i, snap in hot_cycles(4):
        engine.evaluate(cycle_time(i), [snap])
    (alert,) = engine.firing()
    engine.silence(alert.id, until=cycle_time(10), by="ana", reason="fans on order")
    with pytest.raises(UnknownAlert):
        engine.silence("10.0.0.5/fan_slow/fan:0", until=cycle_time(10), by="ana", reason="typo")

    engine = AlertEngine(settings.rules, tmp_path / "alerts.json", clock=lambda: cycle_time(5))
    assert engine.silenced(alert.id, cycle_time(5)).reason == "fans on order"
    assert engine.silenced(alert.id, cycle_time(10)) is None  # up at its time, even before a cycle drops it
    assert engine.unsilence(alert.id, by="bo") and not engine.unsilence(alert.id, by="bo")
    assert read_alert_state(tmp_path)[1] == {}
    engine.silence(alert.id, until=cycle_time(6), by="ana", reason="short")
    assert read_alert_state(tmp_path)[1][alert.id].by == "ana"
    engine.evaluate(cycle_time(7), [miner(7)])
    assert engine.silences == {} and read_alert_state(tmp_path)[1] == {}


async def test_a_backlog_tells_the_channels_what_is_true_at_its_newest_sample_only(receiver, tmp_path):
    """Three miners behind an ASIC sentry whose link was down for 12 cycles: one ran hot and cooled
    within the outage (history only), one is hot at the end (fired once), one was hot and told
    before the outage and has cooled since (resolved once)."""
    came_and_went, still_hot, told_before = "10.0.0.5", "10.0.0.6", "10.0.0.7"

    def cycle(i: int) -> list:
        snaps = [miner(i, came_and_went), miner(i, still_hot), miner(i, told_before)]
        if 2 <= i <= 6:
            snaps[0].boards[1].temp_chip_c = 95.0
        if i >= 8:
            snaps[1].boards[1].temp_chip_c = 95.0
        if i <= 1:
            snaps[2].boards[1].temp_chip_c = 95.0
        return snaps

    async with service(tmp_path, [webhook(receiver)]) as alerts:
        alerts.engine.evaluate(cycle_time(-3), cycle(-3))
        alerts.engine.evaluate(cycle_time(-2), cycle(-2))
        alerts.cycle(cycle_time(-1), cycle(-1))  # told_before fires, live
        alerts.catch_up([(cycle_time(i), cycle(i)) for i in range(0, 13)])
        await until(lambda: alerts.dispatcher.pending() == {"ops": 0}, "delivery of everything queued")
    sent = [(r["json"]["kind"], r["json"]["alert_id"].split("/")[0], r["json"]["at"]) for r in receiver.posts()]
    assert sent == [("fired", told_before, cycle_time(-1)), ("resolved", told_before, cycle_time(2)),
                    ("fired", still_hot, cycle_time(10))]
    history = [(e["event"], e["device"]) for e in read_history(alerts.engine.state_path)]
    assert ("fired", came_and_went) in history and ("resolved", came_and_went) in history
