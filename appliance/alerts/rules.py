"""The alert rules, as a table: one small pure function per condition, with the defaults a farm would choose.

A rule looks at one device's snapshot of this cycle and at what the engine remembers of that device
(``DeviceContext``), and yields a ``Finding`` for every part it could judge, ``firing`` when the
condition holds. A part it cannot judge (the device did not answer, or does not report the field)
is left out and the engine leaves that alert as it is: unknown is not the same as resolved.

Hysteresis lives in the rule: ``active`` holds the parts whose alert is firing, and for those the
rule moves its threshold by ``hysteresis`` towards normal, so an alert resolves only when the value
is clearly back (a chip at 89 °C does not resolve a 90 °C alert; at 84 °C it does).

Parts name the piece of the device an alert is about: ``""`` for the device itself, ``board:N``,
``fan:N``, ``gpu:<PCI bus id>``, ``program:<name>`` (``program:<name>:<port>`` for a program a rig
runs twice), ``boards`` for boards gone missing.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collectors.model import (BOARD_DEAD, BOARD_DOWN, BOARD_OK, Board, MinerProgram, MinerSnapshot, RigSnapshot,
                              program_keys)

if TYPE_CHECKING:
    from appliance.alerts.settings import RuleSettings


@dataclass(frozen=True, slots=True)
class SentryLink:
    """One pull from an ASIC sentry ([[asic_sentries]]): whether the commander reached it. Its
    miners' own snapshots arrive through it, judged at their own times; while it cannot be
    reached, they simply do not arrive, and this one alert stands for all of them."""

    name: str
    url: str
    reachable: bool
    error: str | None = None

    @property
    def address(self) -> str:
        return f"asic-sentry:{self.name}"


Snapshot = MinerSnapshot | RigSnapshot | SentryLink


def device_of(snap: Snapshot) -> str:
    """The key a device's alerts are filed under: a miner's IP, a rig's sentry address (the same
    whether it answers or not; the hostname is known only when it does), an ASIC sentry's name."""
    return snap.ip if isinstance(snap, MinerSnapshot) else snap.address


def kind_of(snap: Snapshot) -> str:
    return "miner" if isinstance(snap, MinerSnapshot) else "rig" if isinstance(snap, RigSnapshot) else "asic_sentry"


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What the engine remembers of a device, as of this cycle."""

    missed_polls: int = 0  # polls in a row without an answer, this one included
    previous_uptime_s: int | None = None  # uptime at the last poll that reported it
    median_hashrate_hs: float | None = None  # H/s, median of the last hour; None until there is enough of it
    share_totals: tuple[tuple[int, int], ...] = ()  # (accepted, rejected) since start, recent polls, oldest first
    # Most boards this miner has reported: where the model is not in the facts table, the
    # collectors cannot list a board its firmware stopped reporting, and only a count that drops shows it.
    boards_seen: int = 0
    gpus_seen: frozenset[str] = frozenset()  # bus ids of every GPU this rig has reported
    # Mining programs whose API answered on this rig before: part -> Unix s it last answered.
    programs_seen: Mapping[str, float] = field(default_factory=dict)
    program_medians: Mapping[str, float] = field(default_factory=dict)  # part -> H/s, 1-hour median
    now: float = 0.0  # the cycle's time


@dataclass(frozen=True, slots=True)
class Finding:
    """One part judged this cycle."""

    part: str
    firing: bool
    value: float | str | None  # what was measured, in the rule's unit
    threshold: float | str | None  # the limit it was judged against, in the same unit
    message: str  # one neutral sentence that reads right for both firing and resolved


Check = Callable[[Any, DeviceContext, "RuleSettings", Container[str]], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # "miner" | "rig" | "asic_sentry": which snapshots it reads
    title: str  # what the alert says, for people
    unit: str  # of value and threshold
    check: Check
    severity: str
    hold_s: float  # the condition must hold this long before the alert fires
    threshold: float | None
    hysteresis: float  # in the rule's unit, towards normal
    options: Mapping[str, Any] = field(default_factory=dict)  # rule-specific settings and their defaults
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # allowed values of a text option
    event: bool = False  # fires once per occurrence and closes itself: nothing to resolve


def _limit(rs: RuleSettings, part: str, active: Container[str], towards: int) -> float:
    """The threshold for this part: moved by the hysteresis (``towards`` normal: +1 up, -1 down) while it fires."""
    return rs.threshold + towards * rs.hysteresis if part in active else rs.threshold


def _hs(value: float) -> str:
    for factor, unit in ((1e15, "PH/s"), (1e12, "TH/s"), (1e9, "GH/s"), (1e6, "MH/s"), (1e3, "kH/s")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value:.0f} H/s"


# --- miners --------------------------------------------------------------------------------------

def offline(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    missed = ctx.missed_polls
    why = f": {snap.error}" if missed and snap.error else ""
    yield Finding("", missed >= rs.threshold, missed, rs.threshold,
                  f"{missed} missed poll(s) in a row (limit {rs.threshold:g}){why}")


def _reference(snap: MinerSnapshot, ctx: DeviceContext, reference: str) -> tuple[float | None, str]:
    if reference == "nominal" and snap.hashrate_nominal_hs:
        return snap.hashrate_nominal_hs, "nominal"
    return ctx.median_hashrate_hs, "1-hour median"


def hashrate_low(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings,
                 active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable or snap.hashrate_hs is None:
        return
    reference, what = _reference(snap, ctx, rs.options["reference"])
    if not reference:
        return
    percent = 100.0 * snap.hashrate_hs / reference
    yield Finding("", percent < _limit(rs, "", active, +1), round(percent, 1), rs.threshold,
                  f"hashrate {_hs(snap.hashrate_hs)} is {percent:.0f} % of its {what} {_hs(reference)} "
                  f"(limit {rs.threshold:g} %)")


def _down(board: Board) -> str | None:
    """What keeps a board from hashing ("dead", "disabled", "missing"), or None while it can."""
    if board.status in BOARD_DOWN:
        return board.status
    return BOARD_DEAD if board.chips == 0 else None


def board_dead(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    """Every board at its slot, judged on what this snapshot says of it: one dead, disabled or missing
    the first time the commander sees the miner fires after the hold like one that dies later."""
    if not snap.reachable or not snap.boards:
        return  # some firmwares report no boards at all: nothing to judge, not "all missing"
    for board in snap.boards:
        if board.status is None and board.chips is None:
            continue
        down = _down(board)
        yield Finding(f"board:{board.index}", down is not None, board.status or f"{board.chips} chips", BOARD_OK,
                      f"board {board.index} is {down or 'hashing'}")
    # A board of a model the collectors have no facts for vanishes from the list rather than
    # being listed missing.
    count = len(snap.boards)
    if ctx.boards_seen:
        yield Finding("boards", count < ctx.boards_seen, count, ctx.boards_seen,
                      f"{count} of {ctx.boards_seen} boards present")


def chips_missing(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings,
                  active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable:
        return
    for board in snap.boards:
        if not board.chips or not board.chips_expected:
            continue  # 0 chips is a dead board, another rule's business
        percent = 100.0 * max(0, board.chips_expected - board.chips) / board.chips_expected
        part = f"board:{board.index}"
        yield Finding(part, percent > _limit(rs, part, active, -1), round(percent, 1), rs.threshold,
                      f"board {board.index} has {board.chips} of {board.chips_expected} chips "
                      f"({percent:.1f} % missing, limit {rs.threshold:g} %)")


def _board_temp(attribute: str, label: str) -> Check:
    def check(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
        if not snap.reachable:
            return
        for board in snap.boards:
            temp = getattr(board, attribute)
            if temp is None:
                continue
            part = f"board:{board.index}"
            yield Finding(part, temp > _limit(rs, part, active, -1), temp, rs.threshold,
                          f"{label} temperature on board {board.index} is {temp:.1f} °C (limit {rs.threshold:g} °C)")
    check.__name__ = f"temp_{label}"
    return check


def fan_slow(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable:
        return
    for fan in snap.fans:
        if fan.rpm is None:
            continue
        part = f"fan:{fan.index}"
        state = "stopped" if fan.rpm == 0 else f"at {fan.rpm} rpm"
        yield Finding(part, fan.rpm < _limit(rs, part, active, +1), fan.rpm, rs.threshold,
                      f"fan {fan.index} is {state} (limit {rs.threshold:g} rpm)")


# Firmwares' words for a pool the miner cannot reach; "disabled" is a choice, not a fault.
_DEAD_POOL_WORDS = frozenset({"dead", "down", "unreachable", "offline"})


def pool_dead(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable:
        return
    known = [pool for pool in snap.pools if pool.status]
    if not known:
        return
    dead = sum(pool.status.lower() in _DEAD_POOL_WORDS for pool in known)
    yield Finding("", dead == len(known), dead, len(known), f"{dead} of {len(known)} pools dead")


def rejection_high(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings,
                   active: Container[str]) -> Iterator[Finding]:
    window = ctx.share_totals[-(rs.options["window_polls"] + 1):]
    if not snap.reachable or len(window) < 2:
        return
    accepted = window[-1][0] - window[0][0]
    rejected = window[-1][1] - window[0][1]
    if accepted + rejected < rs.options["min_shares"]:
        return  # too few shares to tell a storm from bad luck
    percent = 100.0 * rejected / (accepted + rejected)
    yield Finding("", percent > _limit(rs, "", active, -1), round(percent, 2), rs.threshold,
                  f"{percent:.1f} % of the last {accepted + rejected} shares rejected (limit {rs.threshold:g} %)")


def rebooted(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable or snap.uptime_s is None or ctx.previous_uptime_s is None:
        return
    went_down = snap.uptime_s < ctx.previous_uptime_s
    yield Finding("", went_down, snap.uptime_s, ctx.previous_uptime_s,
                  f"mining program restarted: uptime {snap.uptime_s} s, was {ctx.previous_uptime_s} s")


def _bare_url(url: str) -> str:
    """``stratum+tcp://Pool.Example:3333/`` and ``pool.example:3333`` are the same pool."""
    return url.split("://", 1)[-1].rstrip("/").lower()


def _trusted_user(user: str, trusted: Sequence[str]) -> bool:
    # Workers are "account.worker" (or "account_worker"): trusting an account trusts its workers.
    return any(user == name or user.startswith((name + ".", name + "_")) for name in trusted)


def wrong_pool(snap: MinerSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    urls, users = rs.options["trusted_urls"], rs.options["trusted_users"]
    if not snap.reachable or not (urls or users):
        return
    hashing = [pool for pool in snap.pools if pool.active] or [
        pool for pool in snap.pools if (pool.status or "").lower() == "alive"][:1]
    if not hashing or hashing[0].url is None:
        return
    pool = hashing[0]
    bad_url = bool(urls) and _bare_url(pool.url) not in {_bare_url(url) for url in urls}
    bad_user = bool(users) and not _trusted_user(pool.user or "", users)
    yield Finding("", bad_url or bad_user, f"{pool.url} as {pool.user}", "trusted pools",
                  f"hashing for {pool.url} as {pool.user or '(no user)'}"
                  + (" (not a trusted pool)" if bad_url or bad_user else ""))


# --- rigs ----------------------------------------------------------------------------------------

def sentry_unreachable(snap: RigSnapshot, ctx: DeviceContext, rs: RuleSettings,
                       active: Container[str]) -> Iterator[Finding]:
    missed = ctx.missed_polls
    why = f": {snap.error}" if missed and snap.error else ""
    yield Finding("", missed >= rs.threshold, missed, rs.threshold,
                  f"sentry missed {missed} poll(s) in a row (limit {rs.threshold:g}){why}")


def asic_sentry_unreachable(link: SentryLink, ctx: DeviceContext, rs: RuleSettings,
                            active: Container[str]) -> Iterator[Finding]:
    missed = ctx.missed_polls
    why = f": {link.error}" if missed and link.error else ""
    yield Finding("", missed >= rs.threshold, missed, rs.threshold,
                  f"ASIC sentry {link.name} ({link.url}) missed {missed} pull(s) in a row (limit {rs.threshold:g}); "
                  f"its miners' samples wait in its buffer{why}")


def gpu_lost(snap: RigSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable:
        return
    present = {gpu.bus_id for gpu in snap.gpus}
    for bus_id in sorted(ctx.gpus_seen | present):
        lost = bus_id not in present
        yield Finding(f"gpu:{bus_id}", lost, "lost" if lost else "present", "present",
                      f"GPU {bus_id} is {'gone from the bus' if lost else 'present'}")


def temp_gpu(snap: RigSnapshot, ctx: DeviceContext, rs: RuleSettings, active: Container[str]) -> Iterator[Finding]:
    if not snap.reachable:
        return
    for gpu in snap.gpus:
        if gpu.temp_c is None:
            continue
        part = f"gpu:{gpu.bus_id}"
        yield Finding(part, gpu.temp_c > _limit(rs, part, active, -1), gpu.temp_c, rs.threshold,
                      f"GPU {gpu.bus_id} is at {gpu.temp_c:.1f} °C (limit {rs.threshold:g} °C)")


def program_parts(programs: Sequence[MinerProgram]) -> dict[str, MinerProgram]:
    return {f"program:{key}": program for key, program in program_keys(programs).items()}


def program_down(snap: RigSnapshot, ctx: DeviceContext, rs: RuleSettings,
                 active: Container[str]) -> Iterator[Finding]:
    """A mining program whose API answered before and no longer does (or is no longer listed).

    Only programs seen up count: the sentry probes every known program's port, and a rig runs one
    or two of them. One silent for ``forget_after_h`` is taken as replaced on purpose: its alert
    resolves saying so, and it is watched again once it answers."""
    if not snap.reachable:
        return
    listed = program_parts(snap.programs)
    forget_s = rs.options["forget_after_h"] * 3600.0
    for part in sorted(set(ctx.programs_seen) | {k for k, p in listed.items() if p.api_up}):
        program = listed.get(part)
        name = part.removeprefix("program:")
        if program is not None and program.api_up:
            yield Finding(part, False, "up", "up", f"{name} answers on its API")
            continue
        silent_s = ctx.now - ctx.programs_seen.get(part, ctx.now)
        if silent_s > forget_s:
            yield Finding(part, False, "forgotten", "up",
                          f"{name} has not answered for {silent_s / 3600:.0f} h: no longer watched")
            continue
        why = program.error if program is not None and program.error else "no longer listed by the sentry"
        yield Finding(part, True, "down", "up", f"{name} is down: {why}")


def program_hashrate_low(snap: RigSnapshot, ctx: DeviceContext, rs: RuleSettings,
                         active: Container[str]) -> Iterator[Finding]:
    """A running program's hashrate against its own 1-hour median: a rig mixes algorithms, so
    neither the rig's total nor a rating means anything (a GPU hashing at 0 while its program runs
    is this rule's case too)."""
    if not snap.reachable:
        return
    for part, program in program_parts(snap.programs).items():
        reference = ctx.program_medians.get(part)
        if not program.api_up or program.hashrate_hs is None or not reference:
            continue
        percent = 100.0 * program.hashrate_hs / reference
        yield Finding(part, percent < _limit(rs, part, active, +1), round(percent, 1), rs.threshold,
                      f"{program.name} hashes {_hs(program.hashrate_hs)}, {percent:.0f} % of its 1-hour median "
                      f"{_hs(reference)} (limit {rs.threshold:g} %)")


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("offline", "miner", "miner offline", "polls", offline, "critical", 0, 3, 0),
    Rule("hashrate_low", "miner", "hashrate low", "%", hashrate_low, "warning", 300, 80, 5,
         options={"reference": "nominal"}, choices={"reference": ("nominal", "median")}),
    Rule("board_dead", "miner", "board dead or missing", "", board_dead, "critical", 60, None, 0),
    Rule("chips_missing", "miner", "chips missing", "%", chips_missing, "warning", 300, 2, 0),
    Rule("temp_chip", "miner", "chip temperature high", "°C", _board_temp("temp_chip_c", "chip"), "critical",
         60, 90, 5),
    Rule("temp_board", "miner", "board temperature high", "°C", _board_temp("temp_board_c", "board"), "critical",
         60, 80, 5),
    Rule("fan_slow", "miner", "fan stopped or slow", "rpm", fan_slow, "critical", 60, 500, 100),
    Rule("pool_dead", "miner", "all pools dead", "pools", pool_dead, "critical", 120, None, 0),
    Rule("rejection_high", "miner", "share rejection high", "%", rejection_high, "warning", 0, 5, 1,
         options={"window_polls": 10, "min_shares": 20}),
    Rule("rebooted", "miner", "miner rebooted", "s", rebooted, "info", 0, None, 0, event=True),
    Rule("wrong_pool", "miner", "hashing for an untrusted pool", "", wrong_pool, "critical", 0, None, 0,
         options={"trusted_urls": [], "trusted_users": []}),
    Rule("sentry_unreachable", "rig", "sentry unreachable", "polls", sentry_unreachable, "critical", 0, 3, 0),
    Rule("asic_sentry_unreachable", "asic_sentry", "ASIC sentry unreachable", "pulls", asic_sentry_unreachable,
         "critical", 0, 3, 0),
    Rule("gpu_lost", "rig", "GPU lost", "", gpu_lost, "critical", 60, None, 0),
    Rule("temp_gpu", "rig", "GPU temperature high", "°C", temp_gpu, "warning", 60, 85, 5),
    Rule("program_down", "rig", "mining program down", "", program_down, "critical", 60, None, 0,
         options={"forget_after_h": 24}),
    Rule("program_hashrate_low", "rig", "mining program hashrate low", "%", program_hashrate_low, "warning",
         300, 80, 5),
)}
