"""The alert engine: rules over each cycle's snapshots, turned into alerts that fire and resolve once.

An alert is keyed by (device, rule, part) and its id spells that key: ``10.0.0.5/temp_chip/board:1``.
Its life: the rule finds the condition -> ``pending`` from that cycle; still found ``hold_s`` later ->
``firing`` (a "fired" transition); no longer found (the rule applies its hysteresis) -> gone (a
"resolved" transition), or, if still pending, gone silently. A part the rule could not judge this
cycle (the device did not answer) keeps its alert as it is.

State lives in one JSON file, replaced atomically at the end of every ``evaluate`` and
``acknowledge``, so a restart neither fires an active alert again nor forgets a pending hold:

    {"version": 1, "cycle_at": 1714550400.0, "summary_sent_at": null,
     "silences": {"<id>": {"until", "by", "reason", "at"}},
     "alerts": {"<id>": {"id", "device", "rule", "part", "severity", "state": "pending"|"firing",
                         "since", "seen_at", "fired_at", "value", "threshold", "message",
                         "acked_by", "acked_at"}},
     "devices": {"<device>": {"missed": 0, "uptime_s": 1234, "hashrates": [[t, H/s], ...],
                              "shares": [[accepted, rejected], ...], "boards_seen": 3, "gpus_seen": [...],
                              "programs_seen": {"program:xmrig": t, ...},
                              "program_hashrates": {"program:xmrig": [[t, H/s], ...], ...}}}}

A damaged state file (not JSON, or JSON of another shape or types) is set aside
(``appliance.damaged``) and the engine starts with no alerts: those whose condition still holds
fire again (after their hold), and the history stays as it is. One that cannot be read, or that a
newer release wrote, stops the start with one sentence (``StateError``) and stays as it is.

History is append-only JSON lines beside it, a file per month (``history.py``), one object per event:
``{"at", "event": "fired"|"acknowledged"|"resolved"|"silenced"|"unsilenced", "id", "device", "rule", "part", "severity",
"value", "threshold", "message", "by"}`` (and ``until``, ``reason`` for a silence);
``history.read_history`` reads it back.

A silence is kept by alert id until its time is up, whether the alert fires, resolves or fires
again meanwhile: the engine judges and records as ever, and ``AlertService`` sends nothing about
a silenced alert to the channels.
"""

from __future__ import annotations

import contextlib
import json
import logging
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ConfigDict, with_config
from typing_extensions import NotRequired, TypedDict  # pydantic reads typing's only from Python 3.12

import atomicfile
from appliance.alerts import history
from appliance.alerts.rules import (RULES, DeviceContext, Finding, Rule, Snapshot, device_of, kind_of,
                                    program_parts)
from appliance.alerts.settings import RuleSettings
from appliance.damaged import STRICT, Damaged, StateFileError, parsed, read_state, set_aside
from collectors.model import MinerSnapshot, RigSnapshot

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_VERSION = 1
STATE_FILE = "alerts.json"  # in the state directory
MEDIAN_WINDOW_S = 3600.0
# One hashrate sample per 5 minutes: 12 make a sound median of the hour, and the state of a
# 10,000-miner farm stays a few MB (a sample a minute made it 24 MB, rewritten every cycle).
MEDIAN_SAMPLE_S = 300.0
MEDIAN_MIN_SPAN_S = 600.0  # a median over less than 10 minutes says nothing about the hour


class UnknownAlert(KeyError):
    def __str__(self) -> str:
        return f"no firing alert has the id {self.args[0]!r}"


class StateError(StateFileError):
    """The state file cannot be read, or a newer release wrote it; it is not damaged."""


@with_config(STRICT)
@dataclass(frozen=True)
class Alert:
    id: str
    device: str
    rule: str
    part: str
    severity: str
    state: str  # "pending" | "firing"
    since: float  # Unix s, first cycle the condition was found
    seen_at: float  # Unix s, last cycle it was found
    value: float | str | None
    threshold: float | str | None
    message: str
    fired_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None


@with_config(STRICT)
@dataclass(frozen=True)
class Silence:
    until: float  # Unix s
    by: str
    reason: str
    at: float  # Unix s, when it was set


@dataclass(frozen=True)
class Transition:
    kind: str  # "fired" | "resolved"
    alert: Alert  # as it stands after the transition: value and message of this cycle
    at: float  # Unix s, the cycle's time


@with_config(STRICT)
@dataclass
class _Device:
    """What the engine keeps of one device between cycles."""

    missed: int = 0
    uptime_s: int | None = None
    hashrates: list[list[float]] = field(default_factory=list)
    shares: list[list[int]] = field(default_factory=list)
    boards_seen: int = 0
    gpus_seen: list[str] = field(default_factory=list)
    programs_seen: dict[str, float] = field(default_factory=dict)
    program_hashrates: dict[str, list[list[float]]] = field(default_factory=dict)

    def observe(self, snap: Snapshot, now: float, share_window: int) -> DeviceContext:
        """This cycle's context for the rules, then remember what this snapshot adds (the last
        ``share_window`` share totals: as many as the rejection rule looks at)."""
        self.missed = 0 if snap.reachable else self.missed + 1
        previous_uptime = self.uptime_s
        if snap.reachable and isinstance(snap, MinerSnapshot):
            self._add_hashrate(snap.hashrate_hs, now)
            self._add_shares(snap, share_window)
            self.boards_seen = max(self.boards_seen, len(snap.boards))
            if snap.uptime_s is not None:
                self.uptime_s = snap.uptime_s
        elif snap.reachable and isinstance(snap, RigSnapshot):
            self.gpus_seen = sorted(set(self.gpus_seen) | {gpu.bus_id for gpu in snap.gpus})
        programs_seen = dict(self.programs_seen)  # the rules judge against what was known before now
        if snap.reachable and isinstance(snap, RigSnapshot):
            self._observe_programs(snap, now)
        return DeviceContext(
            missed_polls=self.missed,
            previous_uptime_s=previous_uptime,
            median_hashrate_hs=_median(self.hashrates),
            share_totals=tuple((a, r) for a, r in self.shares),
            boards_seen=self.boards_seen,
            gpus_seen=frozenset(self.gpus_seen),
            programs_seen=programs_seen,
            program_medians={part: median for part, samples in self.program_hashrates.items()
                             if (median := _median(samples)) is not None},
            now=now,
        )

    def _add_hashrate(self, hashrate: float | None, now: float) -> None:
        self.hashrates = _add_sample(self.hashrates, hashrate, now)

    def _observe_programs(self, snap: RigSnapshot, now: float) -> None:
        for part, program in program_parts(snap.programs).items():
            if not program.api_up:
                continue
            self.programs_seen[part] = now
            # Only a hashing program feeds its median: zeros while it starts up would drag it down.
            if program.hashrate_hs:
                self.program_hashrates[part] = _add_sample(self.program_hashrates.get(part, []),
                                                           program.hashrate_hs, now)

    def _add_shares(self, snap: MinerSnapshot, window: int) -> None:
        accepted, rejected = snap.accepted, snap.rejected
        if accepted is None or rejected is None:
            pools = [p for p in snap.pools if p.accepted is not None and p.rejected is not None]
            if not pools:
                return
            accepted, rejected = sum(p.accepted for p in pools), sum(p.rejected for p in pools)
        if self.shares and (accepted < self.shares[-1][0] or rejected < self.shares[-1][1]):
            self.shares = []  # counters restarted with the mining program: deltas across it mean nothing
        self.shares = [*self.shares, [accepted, rejected]][-window:] if window else []


def _add_sample(samples: list[list[float]], value: float | None, now: float) -> list[list[float]]:
    """``samples`` with ``value`` added (one per ``MEDIAN_SAMPLE_S`` at most), those older than the
    window dropped."""
    if value is None:
        return samples
    if not samples or now - samples[-1][0] >= MEDIAN_SAMPLE_S:
        samples = [*samples, [now, value]]
    return [sample for sample in samples if now - sample[0] <= MEDIAN_WINDOW_S]


def _median(samples: list[list[float]]) -> float | None:
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < MEDIAN_MIN_SPAN_S:
        return None
    return statistics.median(hs for _, hs in samples)


class AlertEngine:
    def __init__(self, rules: Mapping[str, RuleSettings], state_path: Path,
                 clock: Callable[[], float] = time.time, max_gap_s: float = 600.0,
                 history_days: float = history.DEFAULT_KEEP_DAYS) -> None:
        """``max_gap_s``: a pending alert not seen for this long (commander down, device silent)
        starts its hold again rather than firing on a condition nobody watched; ``history_days``:
        how long the history keeps an event (whole months go)."""
        self.rules: list[tuple[Rule, RuleSettings]] = [
            (RULES[name], settings) for name, settings in rules.items() if settings.enabled]
        self.state_path = Path(state_path)
        self.history_days = history_days
        rejection = rules.get("rejection_high")
        self.share_window = rejection.options["window_polls"] + 1 if rejection and rejection.enabled else 0
        self.clock = clock
        self.max_gap_s = max_gap_s
        self.alerts: dict[str, Alert] = {}
        self.devices: dict[str, _Device] = {}
        self.silences: dict[str, Silence] = {}
        self.cycle_at: float | None = None
        self.summary_sent_at: float | None = None
        self._load()

    # --- the cycle -----------------------------------------------------------------------------

    def evaluate(self, cycle_time: float, snapshots: Iterable[Snapshot], save: bool = True) -> list[Transition]:
        """``save=False`` leaves the state file for a later evaluate to write (a backlog's older
        cycles: the history has every event as ever)."""
        transitions: list[Transition] = []
        events: list[dict[str, Any]] = []
        firing: dict[tuple[str, str], set[str]] = {}
        for alert in self.alerts.values():
            if alert.state == "firing":
                firing.setdefault((alert.device, alert.rule), set()).add(alert.part)
        for snap in snapshots:
            device, kind = device_of(snap), kind_of(snap)
            context = self.devices.setdefault(device, _Device()).observe(snap, cycle_time, self.share_window)
            # A rig's alerts are filed under its sentry's address; people know it by its name.
            name = snap.hostname if isinstance(snap, RigSnapshot) and snap.hostname != device \
                and snap.hostname != snap.ip else None
            for rule, settings in self.rules:
                if rule.kind != kind:
                    continue
                active = firing.get((device, rule.name), set())
                for finding in rule.check(snap, context, settings, active):
                    if name:
                        finding = replace(finding, message=f"{name}: {finding.message}")
                    transition = self._apply(device, rule, settings, finding, cycle_time)
                    if transition:
                        transitions.append(transition)
                        events.append(_event(transition.kind, transition.alert, cycle_time))
                        if rule.event:
                            events.append(_event("resolved", transition.alert, cycle_time))
        self.cycle_at = cycle_time
        self.silences = {key: s for key, s in self.silences.items() if s.until > cycle_time}
        if save:
            self._save()
        self._append_history(events)
        return transitions

    def _apply(self, device: str, rule: Rule, settings: RuleSettings, finding: Finding,
               now: float) -> Transition | None:
        alert_id = f"{device}/{rule.name}/{finding.part}" if finding.part else f"{device}/{rule.name}"
        alert = self.alerts.get(alert_id)
        if not finding.firing:
            if alert is None:
                return None
            del self.alerts[alert_id]
            if alert.state != "firing":
                return None
            return Transition("resolved", replace(alert, value=finding.value, message=finding.message), now)
        if alert is None or alert.state == "pending" and now - alert.seen_at > self.max_gap_s:
            alert = Alert(id=alert_id, device=device, rule=rule.name, part=finding.part,
                          severity=settings.severity, state="pending", since=now, seen_at=now,
                          value=finding.value, threshold=finding.threshold, message=finding.message)
        alert = replace(alert, seen_at=now, value=finding.value, threshold=finding.threshold,
                        message=finding.message)
        fire = alert.state == "pending" and (rule.event or now - alert.since >= settings.hold_s)
        if fire:
            alert = replace(alert, state="firing", fired_at=now)
        if rule.event:
            # An event (a reboot) has nothing to resolve: it is told once and leaves no alert behind.
            return Transition("fired", alert, now)
        self.alerts[alert_id] = alert
        return Transition("fired", alert, now) if fire else None

    # --- people --------------------------------------------------------------------------------

    def acknowledge(self, alert_id: str, by: str) -> Alert:
        alert = self.alerts.get(alert_id)
        if alert is None or alert.state != "firing":
            raise UnknownAlert(alert_id)
        now = self.clock()
        alert = self.alerts[alert_id] = replace(alert, acked_by=by, acked_at=now)
        self._save()
        self._append_history([_event("acknowledged", alert, now, by=by)])
        return alert

    def silence(self, alert_id: str, until: float, by: str, reason: str) -> Alert:
        """Send nothing about ``alert_id`` until ``until``; setting it again moves the end."""
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise UnknownAlert(alert_id)
        now = self.clock()
        self.silences[alert_id] = Silence(until=until, by=by, reason=reason, at=now)
        self._save()
        self._append_history([_event("silenced", alert, now, by=by) | {"until": until, "reason": reason}])
        return alert

    def unsilence(self, alert_id: str, by: str) -> bool:
        """End a silence before its time; False when there was none."""
        silence = self.silences.pop(alert_id, None)
        if silence is None:
            return False
        self._save()
        alert = self.alerts.get(alert_id)
        if alert is not None:
            self._append_history([_event("unsilenced", alert, self.clock(), by=by)])
        return True

    def silenced(self, alert_id: str, at: float) -> Silence | None:
        silence = self.silences.get(alert_id)
        return silence if silence is not None and silence.until > at else None

    def forget(self, device: str, why: str = "removed from the inventory") -> list[Alert]:
        """A device no longer watched under this key: drop what is kept of it, and close its alerts
        in the history, saying ``why``, without a recovery message (nothing recovered). Returns the
        alerts that were firing."""
        return self.forget_all([device], why)

    def forget_all(self, devices: Iterable[str], why: str) -> list[Alert]:
        """``forget`` for several devices, with one save of the state."""
        now = self.clock()
        devices = set(devices)
        gone = [a for a in self.alerts.values() if a.device in devices]
        for alert in gone:
            del self.alerts[alert.id]
        for device in devices:
            self.devices.pop(device, None)
        self._save()
        closed = [a for a in gone if a.state == "firing"]
        self._append_history([_event("resolved", a, now, by=why) for a in closed])
        return closed

    def unwatched(self, watched: Iterable[str]) -> set[str]:
        """The devices the engine keeps something of that are not in ``watched``."""
        return (set(self.devices) | {a.device for a in self.alerts.values()}) - set(watched)

    def firing(self) -> list[Alert]:
        return sorted((a for a in self.alerts.values() if a.state == "firing"), key=lambda a: (a.fired_at, a.id))

    def counts(self) -> dict[str, int]:
        """The farm at a glance: devices known, how many answered their last poll, alerts firing."""
        firing = self.firing()
        counts = {"devices": len(self.devices), "answering": sum(d.missed == 0 for d in self.devices.values()),
                  "firing": len(firing)}
        for alert in firing:
            counts[alert.severity] = counts.get(alert.severity, 0) + 1
        return counts

    def mark_summary(self, at: float) -> None:
        self.summary_sent_at = at
        self._save()

    # --- files ---------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = self.state_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StateError.unreadable(self.state_path, exc) from exc
        try:
            (self.alerts, self.devices, self.silences, self.cycle_at,
             self.summary_sent_at) = parse_state(data, self.state_path)
        except Damaged as exc:
            set_aside(self.state_path, str(exc),
                      then="starting with no alerts: those whose condition still holds fire again")

    def _save(self) -> None:
        state = {"version": STATE_VERSION, "cycle_at": self.cycle_at, "summary_sent_at": self.summary_sent_at,
                 # vars, not asdict: asdict deep-copies every sample list, seconds for a big farm
                 "alerts": {key: vars(a) for key, a in self.alerts.items()},
                 "silences": {key: vars(s) for key, s in self.silences.items()},
                 "devices": {key: vars(d) for key, d in self.devices.items()}}
        atomicfile.replace(self.state_path, json.dumps(state, separators=(",", ":")))

    def _append_history(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        fresh = not history.month_path(self.state_path, events[-1]["at"]).exists()
        history.append(self.state_path, events)
        if fresh:  # a new month: the time to let the oldest go
            history.prune(self.state_path, events[-1]["at"], self.history_days)


@with_config(STRICT)
@dataclass(frozen=True)
class _State:
    """The state file, as ``_save`` writes it."""

    version: int
    alerts: dict[str, Alert]
    devices: dict[str, _Device]
    silences: dict[str, Silence] = field(default_factory=dict)  # absent from files written before silences
    cycle_at: float | None = None
    summary_sent_at: float | None = None


class _Version(TypedDict):
    version: int


@with_config(ConfigDict(strict=True))  # the other members (the devices' samples) are skipped unchecked
class _Alerts(TypedDict):
    version: int
    alerts: dict[str, Alert]
    silences: NotRequired[dict[str, Silence]]


def parse_state(data: bytes, path: Path) -> tuple[dict[str, Alert], dict[str, _Device], dict[str, Silence],
                                                  float | None, float | None]:
    """The alerts, devices, cycle time and summary time the state file ``path`` holding ``data``
    holds; Damaged saying what is wrong when it is not a state file, StateError when it is one of a
    newer version."""
    state = _parsed(_State, data, path)
    _check(state.version, state.alerts, path)
    for key, device in state.devices.items():
        programs = [sample for kept in device.program_hashrates.values() for sample in kept]
        if any(len(sample) != 2 for sample in [*device.hashrates, *device.shares, *programs]):
            raise Damaged(f"device {key!r}: a sample is not a pair of numbers")
    return state.alerts, state.devices, state.silences, state.cycle_at, state.summary_sent_at


def read_alerts(state_dir: Path) -> list[Alert]:
    """The alerts pending and firing as the commander left them (``read_alert_state``)."""
    return read_alert_state(state_dir)[0]


def read_alert_state(state_dir: Path) -> tuple[list[Alert], dict[str, Silence]]:
    """The alerts pending and firing, and the silences, as the commander left them, for a reader
    in another process (``minerwatch alerts``, the web), which leaves the file where it is:
    StateError in one sentence when it is missing, unreadable, damaged or a newer release's. The
    devices' samples, most of the file (2 MB for 10,000 miners), are skipped: a tenth of
    ``parse_state``'s time."""
    path = Path(state_dir) / STATE_FILE

    def alerts(data: bytes) -> _Alerts:
        state = _parsed(_Alerts, data, path)
        _check(state["version"], state["alerts"], path)
        return state

    state = read_state(path, alerts, StateError, missing="the commander has not evaluated alerts here yet",
                       then="the commander sets it aside when it starts")
    return list(state["alerts"].values()), state.get("silences", {})


def _parsed(kind: type[T], data: bytes, path: Path) -> T:
    try:
        return parsed(kind, data)
    except Damaged:
        # A newer release's file need not have this one's shape: its version says whose it is.
        with contextlib.suppress(Damaged):
            _refuse_newer(parsed(_Version, data)["version"], path)
        raise


def _check(version: int, alerts: Mapping[str, Alert], path: Path) -> None:
    _refuse_newer(version, path)
    if version != STATE_VERSION:
        raise Damaged(f"version is {version}, not {STATE_VERSION}")
    for key, alert in alerts.items():
        if alert.state not in ("pending", "firing"):
            raise Damaged(f"alert {key!r}: state is {alert.state!r}")
        if alert.state == "firing" and alert.fired_at is None:
            raise Damaged(f"alert {key!r}: firing, with no fired_at")


def _refuse_newer(version: int, path: Path) -> None:
    if version > STATE_VERSION:
        raise StateError(f"{path} was written by a newer minerwatch (version {version}, this one "
                         f"reads {STATE_VERSION}); it is left as it is")


def _event(kind: str, alert: Alert, at: float, by: str | None = None) -> dict[str, Any]:
    return {"at": at, "event": kind, "id": alert.id, "device": alert.device, "rule": alert.rule,
            "part": alert.part, "severity": alert.severity, "value": alert.value, "threshold": alert.threshold,
            "message": alert.message, "by": by}
