"""The commander's intake of what people change through the web (``web.changes`` writes them):
one JSON line each in ``<state_dir>/web/changes.jsonl``, read from where the last intake stopped
and applied once, in order, every few seconds.

Where it stopped, and what became of the latest changes, is the commander's own file
``<state_dir>/intake.json`` (the web reads it to show whether a change was applied or refused, and
why), so the two processes never write the same file. The offset is saved after the changes it
covers are applied: a crash in between applies them again, so every kind is idempotent (a tag
added twice is there once; an acknowledgement again changes nothing). A line that is not a change
of a known kind, or refers to what no longer exists, is refused with one sentence, never fatal.
A damaged intake file is set aside and the intake starts at the end of the changes: the few
seconds' worth not yet applied are lost (and named in the log), rather than every old change
applied again to alerts that have fired anew since.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import NotRequired, TypedDict

import atomicfile
from appliance.alerts.engine import AlertEngine
from appliance.damaged import STRICT, Damaged, parsed, set_aside
from appliance.inventory import Device, Inventory
from collectors.asic import DRIVERS
from collectors.identify import Identity

log = logging.getLogger(__name__)

CHANGES_FILE = "web/changes.jsonl"
INTAKE_FILE = "intake.json"
INTAKE_S = 2.0  # how often the commander looks: a person waits at most this long to see a change applied
MAX_READ = 4 * 1024 * 1024  # one intake's share of the file; the rest waits for the next
KEEP_OUTCOMES = 2000  # the latest changes' outcomes, for the web to show


class Refused(Exception):
    """A change that cannot be applied; the message says why, in one sentence."""


# What each kind carries besides id, at, by and from. Keys are the web's; strict, so a change of
# a known kind but the wrong shape is refused, not half applied.
@with_config(ConfigDict(strict=True))
class AlertAck(TypedDict):
    alert: str


@with_config(ConfigDict(strict=True))
class AlertSilence(TypedDict):
    alert: str
    until: float  # Unix s
    reason: str


@with_config(ConfigDict(strict=True))
class AlertUnsilence(TypedDict):
    alert: str


@with_config(ConfigDict(strict=True))
class Place(TypedDict):
    device: str
    site: str
    rack: str | None
    location: str | None


@with_config(ConfigDict(strict=True))
class Tags(TypedDict):
    devices: list[str]
    add: list[str]
    remove: list[str]


@with_config(ConfigDict(strict=True))
class Found(TypedDict):
    ip: str
    port: int | None
    driver: str | None  # None: a miner port answered but nothing could identify it


@with_config(ConfigDict(strict=True))
class AddDevices(TypedDict):
    devices: list[Found]
    site: str
    rack: str | None
    tags: list[str]


KINDS: Mapping[str, type] = {"alert_ack": AlertAck, "alert_silence": AlertSilence,
                             "alert_unsilence": AlertUnsilence, "place": Place, "tags": Tags,
                             "add_devices": AddDevices}


@with_config(ConfigDict(strict=True))
class _Change(TypedDict):
    id: str
    at: float
    by: str
    kind: str
    # "from" (the person's address) is for the audit log; the commander does not need it.


@with_config(ConfigDict(strict=True))
class Outcome(TypedDict):
    kind: str
    by: str
    outcome: str  # "applied" | "refused"
    why: str
    at: float  # Unix s, when the commander applied or refused it
    device: NotRequired[str]


@with_config(STRICT)
class _State(TypedDict):
    offset: int
    inode: int
    outcomes: dict[str, Outcome]


Handler = Callable[[str, dict[str, Any]], str]  # (who, the change) -> what was done, or Refused


def handlers(engine: AlertEngine, inventory: Callable[[], Inventory],
             drivers: Container[str] = DRIVERS) -> dict[str, Handler]:
    """What each kind does to the alert engine and the inventory (``inventory()``: the one open
    now, since a damaged one is replaced)."""

    def alert(alert_id: str) -> None:
        if alert_id not in engine.alerts:
            raise Refused(f"alert {alert_id} is no longer pending or firing")

    def ack(by: str, change: dict[str, Any]) -> str:
        alert(change["alert"])
        if engine.alerts[change["alert"]].state != "firing":
            raise Refused(f"alert {change['alert']} is pending, not firing: there is nothing to acknowledge yet")
        if engine.alerts[change["alert"]].acked_by is None:
            engine.acknowledge(change["alert"], by)
        return f"alert {change['alert']} acknowledged"

    def silence(by: str, change: dict[str, Any]) -> str:
        alert(change["alert"])
        engine.silence(change["alert"], change["until"], by, change["reason"])
        return f"alert {change['alert']} silenced"

    def unsilence(by: str, change: dict[str, Any]) -> str:
        engine.unsilence(change["alert"], by)
        return f"alert {change['alert']} no longer silenced"

    def device(key: str) -> Device:
        found = inventory().get(key)
        if found is None:
            raise Refused(f"no device has the key {key!r}")
        if found.source == "configured":
            raise Refused(f"{found.ip or key} is listed in the configuration, which sets its place and tags: "
                          "change it there")
        return found

    def place(by: str, change: dict[str, Any]) -> str:
        found = device(change["device"])
        inventory().place(found.key, change["site"], change["rack"], change["location"], by)
        return f"{found.ip or found.key} placed at {change['site']}/{change['rack'] or '-'}/{change['location'] or '-'}"

    def tags(by: str, change: dict[str, Any]) -> str:
        found = [inventory().get(key) for key in change["devices"]]
        editable = [d.key for d in found if d is not None and d.source == "discovered"]
        if not editable:
            raise Refused("none of these devices can be tagged here: the configuration sets the tags of those it "
                          "lists, and the others are unknown")
        changed = inventory().retag(editable, change["add"], change["remove"])
        left = len(change["devices"]) - len(editable)
        return (f"tags changed on {changed} of {len(change['devices'])} device(s)"
                + (f"; {left} left as they are (listed in the configuration, or unknown)" if left else ""))

    def add(by: str, change: dict[str, Any]) -> str:
        unknown = [d["driver"] for d in change["devices"] if d["driver"] is not None and d["driver"] not in drivers]
        if unknown:
            raise Refused(f"no driver is called {unknown[0]!r}")
        known = [Identity(d["ip"], d["driver"], d["port"], f"added through the web by {by}")
                 for d in change["devices"] if d["driver"]]
        keys = [k for k in inventory().upsert_discovered(known) if k]
        keys += inventory().add_unidentified(d["ip"] for d in change["devices"] if not d["driver"])
        placed = [key for key in keys if (found := inventory().get(key)) is not None and found.source == "discovered"]
        for key in placed:
            inventory().place(key, change["site"], change["rack"], inventory().get(key).location, by)
        if change["tags"]:
            inventory().retag(placed, change["tags"], [])
        return (f"{len(keys)} device(s) in the inventory at {change['site']}"
                + (f", {len(keys) - len(placed)} of them placed by the configuration" if len(placed) < len(keys) else ""))

    return {"alert_ack": ack, "alert_silence": silence, "alert_unsilence": unsilence, "place": place, "tags": tags,
            "add_devices": add}


class Intake:
    def __init__(self, state_dir: Path, handlers: Mapping[str, Handler]) -> None:
        self.changes = Path(state_dir) / CHANGES_FILE
        self.path = Path(state_dir) / INTAKE_FILE
        self.handlers = handlers
        self.state: _State = _load(self.path, self.changes)

    def apply_new(self, now: float) -> list[Outcome]:
        """Apply the changes written since the last call; their outcomes, in order."""
        try:
            with open(self.changes, "rb") as file:
                info = os.fstat(file.fileno())
                if info.st_ino != self.state["inode"] or info.st_size < self.state["offset"]:
                    self.state["offset"], self.state["inode"] = 0, info.st_ino  # a new file: from its start
                file.seek(self.state["offset"])
                chunk = file.read(MAX_READ)
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("cannot read %s (%s); the web's changes wait", self.changes, exc.strerror or exc)
            return []
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            if len(chunk) < MAX_READ:
                return []  # a line still being written
            log.warning("%s: a line longer than %d bytes at offset %d is skipped", self.changes, MAX_READ,
                        self.state["offset"])
            end = len(chunk)
        applied = [self._apply(line, now) for line in chunk[:end].splitlines() if line.strip()]
        done = [outcome for outcome in applied if outcome is not None]
        self.state["offset"] += end
        outcomes = self.state["outcomes"]
        if len(outcomes) > KEEP_OUTCOMES:
            for key in list(outcomes)[:len(outcomes) - KEEP_OUTCOMES]:
                del outcomes[key]
        atomicfile.replace(self.path, json.dumps(self.state))
        return done

    def _apply(self, line: bytes, now: float) -> Outcome | None:
        try:
            change = json.loads(line)
            head = parsed(_Change, line)
        except (ValueError, Damaged) as exc:
            log.warning("%s: a line that is not a change is skipped (%s)", self.changes, exc)
            return None
        if head["id"] in self.state["outcomes"]:
            return None  # applied before the last save (a crash, or the file started over)
        fields = {key: value for key, value in change.items() if key not in ("id", "at", "by", "from", "kind")}
        try:
            kind = KINDS.get(head["kind"])
            if kind is None or head["kind"] not in self.handlers:
                raise Refused(f"this commander does not apply changes of kind {head['kind']!r}")
            try:
                parsed(kind, json.dumps(fields))
            except Damaged as exc:
                raise Refused(f"the change is not a {head['kind']} change ({exc})") from exc
            outcome = Outcome(kind=head["kind"], by=head["by"], outcome="applied",
                              why=self.handlers[head["kind"]](head["by"], fields), at=now)
        except Refused as exc:
            outcome = Outcome(kind=head["kind"], by=head["by"], outcome="refused", why=str(exc), at=now)
        except Exception as exc:  # one bad change never stops the others, nor the commander
            log.exception("change %s (%s by %s) could not be applied", head["id"], head["kind"], head["by"])
            outcome = Outcome(kind=head["kind"], by=head["by"], outcome="refused",
                              why=f"the commander could not apply it ({exc})", at=now)
        self.state["outcomes"][head["id"]] = outcome
        (log.info if outcome["outcome"] == "applied" else log.warning)(
            "change by %s: %s %s: %s", head["by"], head["kind"], outcome["outcome"], outcome["why"])
        return outcome


def _load(path: Path, changes: Path) -> _State:
    """The intake's state; none yet: from the start of the changes (those made before the
    commander first ran); a damaged or unreadable one: from their end."""
    then = "the web's changes not applied yet are skipped; what people change from now on applies"
    try:
        return parsed(_State, path.read_bytes())
    except FileNotFoundError:
        return _State(offset=0, inode=0, outcomes={})
    except OSError as exc:
        log.warning("%s cannot be read (%s); %s", path, exc.strerror or exc, then)
    except Damaged as exc:
        set_aside(path, str(exc), then=then)
    try:
        info = changes.stat()
    except OSError:
        return _State(offset=0, inode=0, outcomes={})
    return _State(offset=info.st_size, inode=info.st_ino, outcomes={})


def outcomes(state_dir: Path) -> dict[str, Outcome]:
    """The latest changes' outcomes by id, for the web; empty while there is no readable intake file."""
    try:
        return parsed(_State, (Path(state_dir) / INTAKE_FILE).read_bytes())["outcomes"]
    except (OSError, Damaged):
        return {}
