"""What the channels send: one ``Message`` per transition (fired, or the recovery message when
resolved) and the daily summary, already worded, so every channel says the same thing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import with_config

from appliance.alerts.engine import Alert, Transition
from appliance.alerts.rules import RULES
from appliance.damaged import STRICT


@with_config(STRICT)
@dataclass(frozen=True)
class Message:
    kind: str  # "fired" | "resolved" | "summary"
    key: str  # unique per message, for receivers to drop a retried duplicate: "<alert id>@<fired_at>/<kind>"
    subject: str  # one line
    text: str  # the plain-text body
    at: float  # Unix s of what it tells
    alert_id: str | None = None  # the rest is None for a summary
    device: str | None = None
    rule: str | None = None
    part: str | None = None
    severity: str | None = None
    value: float | str | None = None
    threshold: float | str | None = None
    message: str | None = None  # the rule's sentence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _where(alert: Alert) -> str:
    return f"{alert.device} {alert.part}" if alert.part else alert.device


def from_transition(transition: Transition) -> Message:
    alert, rule = transition.alert, RULES[transition.alert.rule]
    word = "FIRED" if transition.kind == "fired" else "RESOLVED"
    unit = f" {rule.unit}" if rule.unit and isinstance(alert.value, (int, float)) else ""
    lines = [
        f"{rule.title}: {alert.message}",
        "",
        f"Device:    {alert.device}" + (f" ({alert.part})" if alert.part else ""),
        f"Rule:      {alert.rule} ({alert.severity})",
        f"Value:     {alert.value}{unit}",
        f"Threshold: {alert.threshold}{unit if alert.threshold is not None else ''}",
        f"Time:      {iso(transition.at)}",
    ]
    if transition.kind == "resolved" and alert.fired_at is not None:
        lines.append(f"Fired:     {iso(alert.fired_at)} ({_duration(transition.at - alert.fired_at)} ago)")
    if alert.acked_by:
        lines.append(f"Acknowledged by {alert.acked_by}")
    return Message(
        kind=transition.kind,
        key=f"{alert.id}@{alert.fired_at:.0f}/{transition.kind}",
        subject=f"[{word}] {alert.severity}: {rule.title} on {_where(alert)}",
        text="\n".join(lines), at=transition.at, alert_id=alert.id, device=alert.device, rule=alert.rule,
        part=alert.part, severity=alert.severity, value=alert.value, threshold=alert.threshold,
        message=alert.message)


def summary(now: float, counts: Mapping[str, int], history: Sequence[Mapping[str, Any]],
            firing: Sequence[Alert]) -> Message:
    """The daily summary: the farm's counts, what fired and resolved in ``history`` (the last 24 h), what fires now."""
    events = Counter(event["event"] for event in history)
    by_rule = Counter(event["rule"] for event in history if event["event"] == "fired")
    severities = ", ".join(f"{counts[s]} {s}" for s in ("critical", "warning", "info") if counts.get(s))
    lines = [
        f"Devices: {counts.get('devices', 0)}, {counts.get('answering', 0)} answering their last poll",
        f"Firing now: {counts.get('firing', 0)}" + (f" ({severities})" if severities else ""),
        (f"Last 24 h: {events['fired']} fired, {events['resolved']} resolved, "
         f"{events['acknowledged']} acknowledged"),
    ]
    if by_rule:
        lines.append("Fired by rule: " + ", ".join(f"{rule} {n}" for rule, n in by_rule.most_common()))
    if firing:
        lines += ["", "Firing:"]
        lines += [(f"  {_where(a)}  {a.rule}  since {iso(a.fired_at)}"
                   + (f"  (acknowledged by {a.acked_by})" if a.acked_by else "") + f"  {a.message}")
                  for a in firing]
    day = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
    return Message(kind="summary", key=f"summary@{now:.0f}", at=now, text="\n".join(lines),
                   subject=f"[SUMMARY] minerwatch {day}: {counts.get('firing', 0)} alert(s) firing, "
                           f"{events['fired']} fired in 24 h")


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
