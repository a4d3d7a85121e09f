"""The normalized snapshot every driver returns, whatever the make.

SI base units throughout; ``None`` means the device did not say (never a made-up 0).
The JSON form (``MinerSnapshot.to_dict``) is the public contract of ``minerwatch poll --json``
and of the API: keys keep their names and units, new keys may be added.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from collectors import algorithms


# Board.status: the same words for every make (each driver turns its firmware's into these).
BOARD_OK = "ok"  # it hashes
BOARD_DEAD = "dead"  # the firmware reports it failed, or no chip on it answers
BOARD_DISABLED = "disabled"  # switched off: by the firmware (ePIC turns off a board that fails) or its owner
BOARD_MISSING = "missing"  # a slot the model has that the firmware reports empty, or does not report at all
# A state none of these says ("sick", "initialising": a board that hashes badly, or not yet) is
# the firmware's own word, lower-cased.
BOARD_DOWN = frozenset({BOARD_DEAD, BOARD_DISABLED, BOARD_MISSING})  # the states of a board that does not hash


@dataclass(slots=True)
class Board:
    """One hashboard (chain), at its slot: every board the model has is listed, whatever its state."""

    index: int  # its physical slot (chain), from 0 in slot order: the same on every poll
    hashrate_hs: float | None = None  # H/s, current
    chips: int | None = None  # chips the board reports alive
    chips_expected: int | None = None  # chips the model has per board
    temp_board_c: float | None = None  # °C, hottest PCB sensor
    temp_chip_c: float | None = None  # °C, hottest chip sensor
    frequency_mhz: float | None = None  # MHz, average chip clock
    hw_errors: int | None = None  # hardware errors since start
    status: str | None = None  # BOARD_OK, BOARD_DEAD, BOARD_DISABLED, BOARD_MISSING, or the firmware's own word


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
    # Fields for which the device sent a value that cannot be true or be read (a hashrate of
    # 1e25 H/s, a list where a number belongs, a board numbered 10**12): "hashrate_hs",
    # "boards.temp_chip_c", "fans" (some or all of the list). Each is None (or the total of the
    # boards, where they have one), or the item is left out of its list.
    dropped_fields: list[str] = field(default_factory=list)
    # One sentence per problem that cost part of the poll but not the poll: a login the device
    # refused, and what it leaves unknown ("10.0.3.7:80 refused the login for user root: mac and
    # hostname are unknown").
    warnings: list[str] = field(default_factory=list)
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


# --- rigs: what a CPU/GPU rig's sentry reports -------------------------------------------------


@dataclass(slots=True)
class Gpu:
    """One GPU, keyed by its PCI bus id: indexes change when a card is added or lost."""

    bus_id: str  # "0000:01:00.0", lower case, with domain
    index: int | None = None  # as the driver numbers it now
    vendor: str | None = None  # "nvidia", "amd"
    name: str | None = None  # "NVIDIA GeForce RTX 3080"
    hashrate_hs: float | None = None  # H/s, from the mining program that drives it, in ``algorithm``
    algorithm: str | None = None  # of ``hashrate_hs``, as the program names it ("kawpow")
    temp_c: float | None = None  # °C, core
    mem_temp_c: float | None = None  # °C, memory junction where the card reports it
    fan_pct: float | None = None  # % of full speed
    fan_rpm: int | None = None
    power_w: float | None = None  # W, drawn now
    power_limit_w: float | None = None  # W, enforced limit
    core_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    load_pct: float | None = None  # % of the time the GPU was busy (NVML utilization, amdgpu gpu_busy_percent)
    accepted: int | None = None  # shares found by this GPU, per its mining program
    rejected: int | None = None
    program: str | None = None  # the mining program that uses it


@dataclass(slots=True)
class Cpu:
    model: str | None = None
    threads: int | None = None
    load_pct: float | None = None  # % of all threads, averaged over the collector's interval
    temp_c: float | None = None  # °C, package (coretemp) or Tctl/Tdie (k10temp)
    frequency_mhz: float | None = None
    hashrate_hs: float | None = None  # H/s, from a CPU mining program, in ``algorithm``
    algorithm: str | None = None  # of ``hashrate_hs``, as the program names it ("rx/0")


@dataclass(slots=True)
class MinerProgram:
    """A mining program running on the rig, as its own local API reports it: one record per algorithm
    when it mines several at once (SRBMiner on the GPUs and on the CPU), each with that algorithm's
    hashrate, shares and pool, since hashrates of two algorithms do not add up."""

    name: str  # "xmrig", "trex", "lolminer", ...
    api_up: bool = False  # its API answered this time
    version: str | None = None
    algorithm: str | None = None  # as the program names it ("rx/0", "KAWPOW"); collectors.algorithms knows them
    pool: str | None = None  # URL of the pool it mines for now
    user: str | None = None
    hashrate_hs: float | None = None  # H/s in ``algorithm`` (Sol/s for Equihash)
    accepted: int | None = None
    rejected: int | None = None
    uptime_s: int | None = None
    port: int | None = None  # its API port
    error: str | None = None  # one sentence when its API did not answer


@dataclass(slots=True)
class RigSnapshot:
    """One collection on one rig (CPU and GPUs may mine at once, through several programs)."""

    hostname: str
    reachable: bool = True  # False when the commander could not read the sentry
    error: str | None = None
    collected_at: float | None = None  # Unix time, s
    uptime_s: int | None = None  # s since the rig booted
    load_1m: float | None = None
    memory_used_pct: float | None = None
    disk_used_pct: float | None = None  # of the root filesystem
    # H/s per algorithm (its canonical name), over the programs that answered: a rig's only total,
    # since hashrates of two algorithms do not add up (``algorithm_totals``).
    hashrate_by_algorithm_hs: dict[str, float] = field(default_factory=dict)
    cpu: Cpu = field(default_factory=Cpu)
    gpus: list[Gpu] = field(default_factory=list)
    programs: list[MinerProgram] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # one sentence each: "GPU 0000:03:00.0 lost"
    # One sentence per hardware source the rig does not have: "NVIDIA: no driver (libnvidia-ml.so.1
    # not found)"; a program that does not answer says so in its own ``error``.
    absent: list[str] = field(default_factory=list)
    ip: str | None = None  # where the commander reached it
    port: int | None = None  # the sentry's SNMP port there
    latency_ms: float | None = None

    @property
    def address(self) -> str:
        """The rig's key on the commander (inventory, store, alerts): where its sentry is read,
        ``host`` or ``host:port`` off SNMP's 161; stable whether or not the sentry answers, unlike
        the hostname the rig reports. The hostname on the rig itself, where nobody reads it."""
        return self.hostname if self.ip is None else sentry_address(self.ip, self.port)

    def to_dict(self) -> dict:
        return asdict(self)


def program_keys(programs: list[MinerProgram]) -> dict[str, MinerProgram]:
    """Each program of a rig by its key there: its name, or ``name:port`` for a program the rig runs
    more than once (two instances on two API ports). An instance that mines several algorithms at once
    has a record per algorithm: the first keeps the instance's key, so it is the same whether the
    program answers or not, and each other adds ``/<algorithm>``."""
    ports: dict[str, set[int | None]] = {}
    for p in programs:
        ports.setdefault(p.name, set()).add(p.port)
    keys: dict[str, MinerProgram] = {}
    for p in programs:
        key = p.name if len(ports[p.name]) == 1 else f"{p.name}:{p.port}"
        keys[f"{key}/{p.algorithm}" if key in keys else key] = p
    return keys


def algorithm_totals(programs: Iterable[MinerProgram]) -> dict[str, float]:
    """A rig's hashrate per algorithm: its programs that answered, added up only within an algorithm."""
    return algorithms.totals((p.algorithm, p.hashrate_hs) for p in programs if p.api_up)


def sentry_address(host: str, port: int | None) -> str:
    """``host``, or ``host:port`` off SNMP's port 161: a rig's key on the commander."""
    return host if port in (None, 161) else f"{host}:{port}"
