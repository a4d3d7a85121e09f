"""The contract between the farm (servers, faults, clock) and one emulated make.

A make is a subclass of ``EmulatedMiner`` in ``simfarm/asic/<make>.py`` that only builds replies
from its ``MinerState``; it never touches sockets. The farm's servers (``simfarm/servers.py``) do the
framing each firmware really uses, and apply faults before and after a reply is built.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class BoardState:
    index: int
    chips: int  # alive
    chips_expected: int
    hashrate_hs: float
    temp_board_c: float
    temp_chip_c: float
    frequency_mhz: float
    hw_errors: int = 0
    dead: bool = False
    hashrate_ideal_hs: float = 0.0  # the board's rated share of the nominal ("rate_ideal")


@dataclass
class PoolState:
    index: int
    url: str
    user: str
    alive: bool = True
    accepted: int = 0
    rejected: int = 0
    stale: int = 0


@dataclass
class MinerState:
    """What the emulated miner is doing now; ``Farm`` advances it, makes render it."""

    model: str
    hashrate_nominal_hs: float
    power_w: float
    boards: list[BoardState]
    fans_rpm: list[int]
    pools: list[PoolState]
    mac: str
    serial: str
    hostname: str
    started_at: float  # Unix time the mining program started (uptime = now - started_at)
    fault_light: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    hashrate_avg_hs: float = 0.0  # average since the mining program started ("GHS av")

    @property
    def hashrate_hs(self) -> float:
        return sum(b.hashrate_hs for b in self.boards if not b.dead)

    @property
    def hw_errors(self) -> int:
        return sum(b.hw_errors for b in self.boards)

    @property
    def accepted(self) -> int:
        return sum(p.accepted for p in self.pools)

    @property
    def rejected(self) -> int:
        return sum(p.rejected for p in self.pools)

    @property
    def stale(self) -> int:
        return sum(p.stale for p in self.pools)

    def uptime_s(self, now: float) -> int:
        return max(0, int(now - self.started_at))


class EmulatedMiner:
    """Base of every emulated ASIC make. Subclasses set the class attributes and override the
    reply builders their firmware has; a builder returns None for a request the firmware does
    not know (the server then answers as that firmware answers an unknown command)."""

    make: ClassVar[str]  # "Bitmain"
    firmware: ClassVar[str]  # "stock", "Braiins OS", ...
    driver: ClassVar[str]  # the collectors driver name expected to poll it
    models: ClassVar[tuple[str, ...]]  # models this make is emulated as
    rpc_port: ClassVar[int | None] = 4028  # cgminer-style RPC (None: no RPC)
    web_port: ClassVar[int | None] = 80  # HTTP (the farm may remap it when it cannot bind 80)
    btminer_port: ClassVar[int | None] = None  # Whatsminer 4433 framing
    rpc_multi: ClassVar[bool] = True  # the firmware accepts "a+b" multi-commands
    web_user: ClassVar[str | None] = None  # web login the firmware ships with (an instance may
    web_password: ClassVar[str | None] = None  # override both, for a per-device password)

    def __init__(self, ip: str, state: MinerState, rng: random.Random) -> None:
        self.ip = ip
        self.state = state
        self.rng = rng
        # Fault name -> parameters (see simfarm/faults.py); the farm sets them, the servers and the
        # farm's live model apply them, a make never needs to read them.
        self.faults: dict[str, dict[str, Any]] = {}
        # Set by the farm: brings ``state`` up to ``now`` (hashrate, counters, temperatures). Values
        # are computed only when a reply is built, so an idle farm costs no CPU.
        self.live: Callable[[float], None] | None = None

    def refresh(self, now: float) -> None:
        """Bring ``state`` up to ``now``; the servers call it before every reply."""
        if self.live is not None:
            self.live(now)

    def rpc_error(self, code: int, msg: str, now: float) -> bytes:
        """How the firmware answers a command it refuses (cgminer: Code 14 "Invalid command")."""
        return (b'{"STATUS":[{"STATUS":"E","When":%d,"Code":%d,"Msg":"%s","Description":"cgminer"}],"id":1}'
                % (int(now), code, msg.encode()))

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        """The raw bytes of one RPC command's reply (JSON text, without the NUL the server adds)."""
        return None

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes,
             now: float) -> tuple[int, dict[str, str], bytes] | None:
        """(status, headers, body) for one HTTP request; auth checks happen here.

        ``headers`` has lower-case names; ``path`` includes the query string."""
        return None

    def btminer(self, request: dict[str, Any], now: float) -> bytes | None:
        """The JSON reply to one 4433 API request."""
        return None

    def expected(self) -> dict[str, Any]:
        """The inventory row tests compare a poll with: what the collectors should find."""
        return {
            "ip": self.ip, "port": self.rpc_port or self.web_port, "make": self.make,
            "model": self.state.model, "firmware": self.firmware, "driver": self.driver,
            "hashrate_nominal_hs": self.state.hashrate_nominal_hs,
            "boards": len(self.state.boards),
            "chips_expected": [b.chips_expected for b in self.state.boards],
            "fans": len(self.state.fans_rpm), "pools": len(self.state.pools),
            "mac": self.state.mac, "serial": self.state.serial,
            "hostname": self.state.hostname, "power_w": self.state.power_w,
            "web_user": self.web_user, "web_password": self.web_password,
        }


# HTTP Digest (RFC 7616, MD5, qop=auth), as the lighttpd of Bitmain-style web UIs speaks it.

def digest_nonce(ip: str, serial: str) -> str:
    """A stable nonce per device: the emulator keeps no per-client state."""
    return hashlib.md5(f"{ip}:{serial}".encode()).hexdigest()


def digest_challenge(realm: str, nonce: str) -> str:
    """The ``WWW-Authenticate`` value of a 401."""
    return f'Digest realm="{realm}", charset="UTF-8", algorithm=MD5, nonce="{nonce}", qop="auth"'


def digest_authorized(headers: Mapping[str, str], method: str, realm: str, nonce: str,
                      user: str, password: str) -> bool:
    """Whether ``headers`` carry a Digest answer to our challenge for ``user``/``password``."""
    value = headers.get("authorization", "")
    if not value[:7].lower() == "digest ":
        return False
    fields = {}
    for part in value[7:].split(","):
        key, _, val = part.strip().partition("=")
        fields[key.lower()] = val.strip('"')

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    if fields.get("username") != user or fields.get("realm") != realm or fields.get("nonce") != nonce:
        return False
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{fields.get('uri', '')}")
    if fields.get("qop"):
        expected = md5(f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:{fields['qop']}:{ha2}")
    else:
        expected = md5(f"{ha1}:{nonce}:{ha2}")
    return fields.get("response") == expected
