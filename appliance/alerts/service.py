"""The alerting as the scheduler sees it: ``cycle()`` once per poll cycle, from the event loop.

It evaluates the rules, hands the transitions to the dispatcher, pings the heartbeat and, once a
day at ``summary_at`` (local time), queues the summary. Nothing in it waits on a network.

Files under ``state_dir``: ``alerts.json`` (the engine's state), ``alerts-history-YYYY-MM.jsonl`` (the
history, a file per month), ``alerts-outbox.json`` (deliveries still owed).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from appliance import ha
from appliance.alerts import channels as channel_kinds
from appliance.alerts import message as messages
from appliance.alerts.channels.heartbeat import Heartbeat
from appliance.alerts.dispatch import Dispatcher
from appliance.alerts.engine import AlertEngine, Transition
from appliance.alerts.history import read_history
from appliance.alerts.rules import RULES, Snapshot
from appliance.alerts.settings import AlertSettings, ChannelSettings

DAY_S = 86400.0


class AlertService:
    def __init__(self, engine: AlertEngine, dispatcher: Dispatcher, heartbeat: Heartbeat | None = None,
                 summary_at: dt.time | None = None) -> None:
        self.engine, self.dispatcher, self.heartbeat, self.summary_at = engine, dispatcher, heartbeat, summary_at

    @classmethod
    def from_settings(cls, settings: AlertSettings, channels: Sequence[ChannelSettings], state_dir: Path,
                      clock: Callable[[], float] = time.time) -> AlertService:
        role = functools.partial(ha.role, settings.ha_role_file)
        engine = AlertEngine(settings.rules, Path(state_dir) / "alerts.json", clock,
                             history_days=settings.history_days)
        dispatcher = Dispatcher([channel_kinds.build(c) for c in channels], Path(state_dir) / "alerts-outbox.json",
                                role=role, queue_size=settings.queue_size)
        heartbeat = None
        if settings.heartbeat_url:
            heartbeat = Heartbeat(settings.heartbeat_url, settings.heartbeat_method, settings.heartbeat_timeout_s,
                                  role=role)
        return cls(engine, dispatcher, heartbeat, settings.summary_at)

    async def __aenter__(self) -> AlertService:
        self.dispatcher.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispatcher.stop()
        if self.heartbeat:
            await self.heartbeat.aclose()

    def cycle(self, cycle_time: float, snapshots: Iterable[Snapshot]) -> list[Transition]:
        transitions = self.catch_up([(cycle_time, snapshots)])
        if self.heartbeat:
            self.heartbeat.beat()
        if self._summary_due(cycle_time):
            self.dispatcher.submit([messages.summary(
                cycle_time, self.engine.counts(), read_history(self.engine.state_path, cycle_time - DAY_S),
                self.engine.firing())])
            self.engine.mark_summary(cycle_time)
        return transitions

    def catch_up(self, cycles: Sequence[tuple[float, Iterable[Snapshot]]]) -> list[Transition]:
        """Cycles that arrive late and together (an ASIC sentry's backlog after its link came back),
        oldest first, each judged at its own time. The channels hear what is true at the newest:
        an alert firing now that was not before, once; one the channels heard fire that is over now.
        What came and went within the backlog is in the history only. A silenced alert is judged and
        recorded as ever; only the channels hear nothing of it."""
        if not cycles:
            return []
        before = {a.id for a in self.engine.firing()}
        older = [t for at, snapshots in cycles[:-1] for t in self.engine.evaluate(at, snapshots, save=False)]
        newest = self.engine.evaluate(*cycles[-1])
        now = {a.id for a in self.engine.firing()}
        told = [t for t in newest if RULES[t.alert.rule].event]  # an event is news only when it is new
        last = {t.alert.id: t for t in [*older, *newest] if not RULES[t.alert.rule].event}
        for alert_id, transition in last.items():
            if (transition.kind == "fired" and alert_id in now and alert_id not in before) or (
                    transition.kind == "resolved" and alert_id in before and alert_id not in now):
                told.append(transition)
        self.dispatcher.submit(messages.from_transition(t) for t in sorted(told, key=lambda t: t.at)
                               if self.engine.silenced(t.alert.id, t.at) is None)
        return [*older, *newest]

    def _summary_due(self, now: float) -> bool:
        if self.summary_at is None:
            return False
        last = self.engine.summary_sent_at
        if last is None:
            # The first cycle ever: count from now rather than summarise a day nobody watched.
            self.engine.mark_summary(now)
            return False
        today = dt.datetime.combine(dt.datetime.fromtimestamp(now).date(), self.summary_at).timestamp()
        return last < today <= now
