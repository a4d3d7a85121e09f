"""The normalized snapshot every driver returns, whatever the make.

SI base units throughout; ``None`` means the device did not say (never a made-up 0).
The JSON form (``MinerSnapshot.to_dict``) is the public contract of ``minerwatch poll --json``
and of the API: keys keep their names and units, new keys may be added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(slots=True)
class Board:
    """One hashboard (chain)."""

    index: int  # as the device numbers it, from 0
    hashrate_hs: float | None = None  # H/s, current
    chips: int | None = None  # chips the board reports alive
    chips_expected: int | None = None  # chips the model has per board
    temp_board_c: float | None = None  # °C, hottest PCB sensor
    temp_chip_c: float | None = None  # °C, hottest chip sensor
    frequency_mhz: float | None = None  # MHz, average chip clock
    hw_errors: int | None = None  # hardware errors since start
    status: str | None = None  # "ok", "dead", or the firmware's own word


@dataclass(slots=True)
class Fan:
    index: int
    rpm: int | None = None  # revolutions per minute


@dataclass(slots=True)
class Pool:
    index: int  # the miner's priority order, from 0
    url: str | None = None
    user: str | None = None  # worker name as configured
    status: str | None = None  # "alive", "dead", or the firmware's own word
    active: bool | None = None  # the pool the miner hashes for now
    accepted: int | None = None  # shares since start
    rejected: int | None = None
    stale: int | None = None


@dataclass(slots=True)
class ErrorCode:
    code: str  # the firmware's code, as text
    message: str | None = None


@dataclass(slots=True)
class MinerSnapshot:
    """One poll of one miner."""

    ip: str
    port: int
    make: str | None = None  # the maker: "Bitmain", "MicroBT", "Canaan"...
    model: str | None = None  # as the device names it: "Antminer S19 Pro"
    firmware: str | None = None  # "stock", "Braiins OS", "LuxOS", "VNish"...
    firmware_version: str | None = None
    algorithm: str | None = None  # "SHA256", "Scrypt", "kHeavyHash"...
    reachable: bool = False
    error: str | None = None  # one sentence a person understands, when the poll failed
    hashrate_hs: float | None = None  # H/s, the firmware's short average (5 s to 1 min)
    hashrate_avg_hs: float | None = None  # H/s, average since start (or the longest it gives)
    hashrate_nominal_hs: float | None = None  # H/s, what the model is rated for
    power_w: float | None = None  # W, measured or estimated by the firmware
    power_limit_w: float | None = None  # W, configured target
    efficiency_jth: float | None = None  # J/TH, power over hashrate
    uptime_s: int | None = None  # s since the mining program started
    temp_max_c: float | None = None  # °C, hottest board or chip
    boards: list[Board] = field(default_factory=list)
    fans: list[Fan] = field(default_factory=list)
    pools: list[Pool] = field(default_factory=list)
    accepted: int | None = None  # shares since start, all pools
    rejected: int | None = None
    hw_errors: int | None = None  # hardware errors since start, all boards
    errors: list[ErrorCode] = field(default_factory=list)
    fault_light: bool | None = None  # the locate LED is on
    mac: str | None = None  # "AA:BB:CC:DD:EE:FF"
    serial: str | None = None
    hostname: str | None = None
    polled_at: float | None = None  # Unix time, s, when the poll started
    latency_ms: float | None = None  # ms the whole poll took

    def to_dict(self) -> dict:
        return asdict(self)


def unreachable(ip: str, port: int, error: str, *, polled_at: float | None = None,
                latency_ms: float | None = None) -> MinerSnapshot:
    """The snapshot of a miner whose poll failed: only the address and the reason."""
    return MinerSnapshot(ip=ip, port=port, reachable=False, error=error,
                         polled_at=polled_at, latency_ms=latency_ms)
