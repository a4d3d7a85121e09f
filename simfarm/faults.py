"""The faults real farms have, as a table: what each does, where it acts, and its parameters.

Where a fault acts:
- ``listener``: before accept. ``offline`` = no listening socket at all (connect is refused);
  ``refuses`` = a listener that resets every connection it accepts.
- ``connection``: ``hangs`` accepts and reads, and never answers.
- ``reply``: the reply is built and then spoiled on its way out (garbage, truncated, slow), or
  (``hostile``) rewritten as a device that attacks its monitor would: the reply is the real one,
  with one of ``ATTACKS`` applied to its body before it is framed.
- ``state``: the device's own values change (boards, chips, fans, temperatures, pools, shares,
  uptime); the farm's live model applies them, and every protocol reports them as the firmware would.

Transport faults act on every port of the device (RPC, web, 4433) alike.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FaultKind:
    name: str
    where: str  # listener | connection | reply | state
    description: str
    defaults: dict[str, Any]


FAULTS: dict[str, FaultKind] = {kind.name: kind for kind in (
    FaultKind("offline", "listener", "no listener: connections are refused", {}),
    FaultKind("refuses", "listener", "accepts, then resets the connection (RST)", {}),
    FaultKind("hangs", "connection", "accepts, reads, never answers", {}),
    FaultKind("garbage", "reply", "answers random bytes, then closes", {"size": 256}),
    FaultKind("truncated", "reply", "answers the first half of the reply, then closes", {}),
    FaultKind("slow", "reply", "answers after a delay", {"delay_s": 5.0}),
    FaultKind("dead_board", "state", "one board reports no chips and no hashrate", {"board": 0}),
    FaultKind("missing_chips", "state", "one board lost some chips", {"board": 0, "missing": 10}),
    FaultKind("fan_stopped", "state", "one fan at 0 RPM; the boards run hotter", {"fan": 0}),
    FaultKind("overheating", "state", "board and chip temperatures above 95 °C", {"add_c": 45.0}),
    FaultKind("pool_down", "state", "every pool dead, no shares", {}),
    FaultKind("reject_storm", "state", "shares rejected at a high rate", {"per_s": 0.5}),
    FaultKind("reboot", "state", "the mining program restarted: uptime and counters reset", {}),
    FaultKind("hostile", "reply", "the real reply with an attack on its reader applied (ATTACKS)",
              {"attack": "huge_int"}),
)}

# ``--faults RATE`` draws from these: every fault except ``reboot``, which is an event, not a
# condition a miner stays in, and ``hostile``, which is an attack, not a fault (``--hostile RATE``).
RANDOM_FAULTS = tuple(name for name in FAULTS if name not in ("reboot", "hostile"))

# --- attacks: what a hostile device does to a reply's body (JSON text, as the firmware sent it)

# A number where JSON has a value: after ":", "[" or ",", before ",", "]" or "}" (what a reply's
# strings hold, "a:1," in a URL, is left alone as often as not; an attack need not be exact).
_NUMBER = re.compile(rb'(?<=[:\[,])(\s*)(?:"-?\d+(?:\.\d+)?"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=\s*[,\]}])')
# A key that names a count ("fan_num", "Board Count", "Error Code Count") and its value.
_COUNT = re.compile(rb'("[^"{}]*(?:num|count)[^"{}]*"\s*:\s*)(?:"[^"]*"|[^,}\]]+)', re.IGNORECASE)
_STRING = re.compile(rb'(?<=:)(\s*)"(?:[^"\\]|\\.)*"')
REPLY_CEILING = 1 << 20  # what every transport of the collectors reads at most, in bytes


def _numbers_to(value: bytes) -> Callable[[bytes], bytes]:
    return lambda body: _NUMBER.sub(lambda m: m.group(1) + value, body)


def _inside_first_object(member: bytes) -> Callable[[bytes], bytes]:
    """Adds ``"junk": member`` as the first member of the reply's first object."""
    def attack(body: bytes) -> bytes:
        brace = body.find(b"{")
        return body if brace < 0 else body[:brace + 1] + b'"junk":' + member + b"," + body[brace + 1:]
    return attack


def _long_strings(body: bytes) -> bytes:
    """Every string value made long, up to what a reply may weigh: a run of one letter after a
    model-like start, the shape that makes a backtracking pattern try every split of it."""
    strings = len(_STRING.findall(body)) or 1
    length = max(1000, (REPLY_CEILING * 3 // 4 - len(body)) // strings)
    return _STRING.sub(lambda m: m.group(1) + b'"M1' + b"V" * length + b'!"', body)


# A record that bmminer would print back to back, 2,100 of them with no comma between: each
# ``}{`` is a repair the decoder has to make, in a reply just under what a transport reads.
_RECORD = b'{"STATS":0,"ID":"BC50","GHS 5s":"13883.81","chain_acs6":"' + b"o" * 380 + b'"}'

ATTACKS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "huge_int": ("every number a 400-digit integer", _numbers_to(b"1" + b"0" * 400)),
    "inf": ("every number 1e305: finite, but infinite once scaled to H/s", _numbers_to(b"1e305")),
    "huge_count": ("every count the device gives (fan_num, Board Count, ...) 1e11", lambda body: _COUNT.sub(
        lambda m: m.group(1) + b"1e11", body)),
    "repairs": ("2,100 records glued without commas, in 920 KB", _inside_first_object(
        b"[" + _RECORD * 2100 + b"]")),
    "deep": ("a member nested 100,000 lists deep", _inside_first_object(b"[" * 100_000 + b"]" * 100_000)),
    "huge_reply": ("2 MB of spaces after the reply: more than any transport reads",
                   lambda body: body + b" " * (2 * REPLY_CEILING)),
    "huge_string": ("every string value as long as the reply allows", _long_strings),
}


def attack(name: str, body: bytes) -> bytes:
    """``body`` with the attack ``name`` applied."""
    return ATTACKS[name][1](body)


def params_for(fault: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fault's parameters: its defaults overridden by ``params``; unknown names are errors."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
    merged = dict(FAULTS[fault].defaults)
    for key, value in (params or {}).items():
        if key not in merged:
            raise ValueError(f"fault {fault!r} has no parameter {key!r}; it takes: {', '.join(merged) or 'none'}")
        merged[key] = type(merged[key])(value)
    if fault == "hostile" and merged["attack"] not in ATTACKS:
        raise ValueError(f"unknown attack {merged['attack']!r}; known: {', '.join(ATTACKS)}")
    return merged


def draw(ips: list[str], rate: float, rng: random.Random) -> dict[str, str]:
    """ip -> fault for ``rate`` of ``ips`` (rounded), chosen deterministically from ``rng``."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault rate must be between 0 and 1, not {rate}")
    chosen = rng.sample(ips, round(len(ips) * rate))
    return {ip: rng.choice(RANDOM_FAULTS) for ip in chosen}


def draw_attacks(ips: list[str], rate: float, rng: random.Random) -> dict[str, str]:
    """ip -> attack for ``rate`` of ``ips`` (rounded), every attack in turn, so a few hostile
    miners already show each one."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"hostile rate must be between 0 and 1, not {rate}")
    chosen = sorted(rng.sample(range(len(ips)), round(len(ips) * rate)))
    return {ips[i]: name for i, name in zip(chosen, _cycle(list(ATTACKS), len(chosen)))}


def _cycle(names: list[str], count: int) -> list[str]:
    return [names[i % len(names)] for i in range(count)]
