"""A CPU/GPU rig: its hardware (``RigState``) and the mining programs that run on it (``EmulatedRig``).

Every value is a pure function of the rig's seed and the clock, computed when a reply is built:
no timers, no background task, and the same seed gives the same rig at the same instant. Gauges
(hashrate, temperatures, fans, power) wander around their nominal value; share counters only grow,
at a rate that follows the GPU's condition, and freeze while it hashes nothing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from simfarm.rigs import MINER_PROGRAMS

if TYPE_CHECKING:
    from simfarm.rigs.programs.base import MinerProgram

# The throttled fraction of nominal hashrate a GPU keeps while it runs hot (its driver clocks it down).
HOT_HASHRATE_FACTOR = 0.85
HOT_TEMP_C = 92.0
# How long one random step of a wandering value lasts; values are interpolated between steps.
WANDER_STEP_S = 30.0


@dataclass
class GpuState:
    """One GPU as the rig's hardware sees it; ``bus_id`` is its stable key (``0000:01:00.0``)."""

    bus_id: str
    vendor: str  # "nvidia" | "amd"
    name: str
    hashrate_nominal_hs: float
    power_nominal_w: float
    temp_nominal_c: float
    mem_temp_nominal_c: float | None  # None: the card has no memory-junction sensor
    fan_pct_nominal: float
    fan_rpm_max: int
    core_clock_mhz: int
    mem_clock_mhz: int
    shares_per_s: float
    reject_ratio: float = 0.01
    lost: bool = False  # fell off the bus: miners drop it from their replies
    hot: bool = False


@dataclass
class CpuState:
    model: str
    threads: int
    hashrate_nominal_hs: float  # 0 when no program mines on the CPU
    temp_nominal_c: float
    shares_per_s: float
    reject_ratio: float = 0.01


@dataclass(frozen=True)
class GpuReading:
    """A GPU's values at one instant, in SI units (the programs convert to their own)."""

    index: int  # position among the rig's GPUs, in bus order: what miners call GPU 0, 1, ...
    bus_id: str
    vendor: str
    name: str
    hashrate_hs: float
    temp_c: float
    mem_temp_c: float | None
    fan_pct: float
    fan_rpm: int
    power_w: float
    core_clock_mhz: int
    mem_clock_mhz: int
    accepted: int
    rejected: int


@dataclass(frozen=True)
class CpuReading:
    model: str
    threads: int
    hashrate_hs: float
    temp_c: float
    accepted: int
    rejected: int


@dataclass
class _Counter:
    """Shares found so far: ``base`` at ``since``, growing at ``rate`` per second from then on."""

    since: float
    accepted: float = 0.0
    rejected: float = 0.0


@dataclass
class RigState:
    hostname: str
    seed: int
    started_at: float  # Unix time the rig (and its miners) started
    gpus: list[GpuState]
    cpu: CpuState
    hashrate_zero: bool = False  # every device hashes nothing (pool or driver trouble)
    _counters: dict[str, _Counter] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.gpus.sort(key=lambda g: g.bus_id)  # miners number GPUs in PCI bus order
        for key in [g.bus_id for g in self.gpus] + ["cpu"]:
            self._counters[key] = _Counter(since=self.started_at)

    # -- faults the farm toggles; ``now`` settles the share counters at the change ------------

    def set_hashrate_zero(self, on: bool, now: float) -> None:
        self._settle(now)
        self.hashrate_zero = on

    def set_gpu_lost(self, bus_id: str, lost: bool, now: float) -> None:
        self._settle(now)
        self.gpu(bus_id).lost = lost

    def set_gpu_hot(self, bus_id: str, hot: bool, now: float) -> None:
        self._settle(now)
        self.gpu(bus_id).hot = hot

    # -- readings -----------------------------------------------------------------------------

    def gpu(self, bus_id: str) -> GpuState:
        for gpu in self.gpus:
            if gpu.bus_id == bus_id:
                return gpu
        raise KeyError(f"{self.hostname} has no GPU at {bus_id}")

    def read_gpu(self, bus_id: str, now: float) -> GpuReading:
        gpu = self.gpu(bus_id)
        factor = self._gpu_factor(gpu)
        hot = gpu.hot and not gpu.lost
        temp = (HOT_TEMP_C if hot else gpu.temp_nominal_c) + 2.0 * self._wander(f"{bus_id}/temp", now)
        fan_pct = 100.0 if hot else min(100.0, max(0.0, gpu.fan_pct_nominal + 3.0 * self._wander(f"{bus_id}/fan", now)))
        mem_temp = None
        if gpu.mem_temp_nominal_c is not None:
            mem_temp = gpu.mem_temp_nominal_c + (temp - gpu.temp_nominal_c) + 2.0 * self._wander(f"{bus_id}/mem", now)
        power = gpu.power_nominal_w * (0.35 if factor == 0 else 1.0 + 0.03 * self._wander(f"{bus_id}/power", now))
        accepted, rejected = self._count(bus_id, now)
        return GpuReading(
            index=self.gpus.index(gpu), bus_id=bus_id, vendor=gpu.vendor, name=gpu.name,
            hashrate_hs=gpu.hashrate_nominal_hs * factor * (1.0 + 0.02 * self._wander(f"{bus_id}/hash", now)),
            temp_c=round(temp, 1), mem_temp_c=None if mem_temp is None else round(mem_temp, 1),
            fan_pct=round(fan_pct, 1), fan_rpm=round(gpu.fan_rpm_max * fan_pct / 100.0),
            power_w=round(power, 1), core_clock_mhz=gpu.core_clock_mhz, mem_clock_mhz=gpu.mem_clock_mhz,
            accepted=accepted, rejected=rejected,
        )

    def read_cpu(self, now: float) -> CpuReading:
        factor = 0.0 if self.hashrate_zero else 1.0
        accepted, rejected = self._count("cpu", now)
        return CpuReading(
            model=self.cpu.model, threads=self.cpu.threads,
            hashrate_hs=self.cpu.hashrate_nominal_hs * factor * (1.0 + 0.02 * self._wander("cpu/hash", now)),
            temp_c=round(self.cpu.temp_nominal_c + 2.0 * self._wander("cpu/temp", now), 1),
            accepted=accepted, rejected=rejected,
        )

    # -- the machinery --------------------------------------------------------------------------

    def _gpu_factor(self, gpu: GpuState) -> float:
        if gpu.lost or self.hashrate_zero:
            return 0.0
        return HOT_HASHRATE_FACTOR if gpu.hot else 1.0

    def _rate(self, key: str) -> tuple[float, float]:
        if key == "cpu":
            return self.cpu.shares_per_s * (0.0 if self.hashrate_zero else 1.0), self.cpu.reject_ratio
        gpu = self.gpu(key)
        return gpu.shares_per_s * self._gpu_factor(gpu), gpu.reject_ratio

    def _count(self, key: str, now: float) -> tuple[int, int]:
        counter = self._counters[key]
        rate, reject_ratio = self._rate(key)
        elapsed = max(0.0, now - counter.since)  # a render older than the last change sees it frozen
        return (math.floor(counter.accepted + rate * elapsed),
                math.floor(counter.rejected + rate * reject_ratio * elapsed))

    def _settle(self, now: float) -> None:
        """Fold the shares found up to ``now`` into the counters, before a rate changes."""
        for key, counter in self._counters.items():
            if now <= counter.since:
                continue
            rate, reject_ratio = self._rate(key)
            counter.accepted += rate * (now - counter.since)
            counter.rejected += rate * reject_ratio * (now - counter.since)
            counter.since = now

    def _wander(self, key: str, now: float) -> float:
        """A smooth value in [-1, 1] for ``key`` at ``now``, the same for the same seed.

        String seeds make ``random.Random`` hash with SHA-512, so the value does not depend on
        PYTHONHASHSEED and a rig replays identically in every process."""
        step, frac = divmod(now / WANDER_STEP_S, 1.0)
        a = random.Random(f"{self.seed}/{key}/{int(step)}").uniform(-1.0, 1.0)
        b = random.Random(f"{self.seed}/{key}/{int(step) + 1}").uniform(-1.0, 1.0)
        return a + (b - a) * frac


class EmulatedRig:
    """One rig on the farm: its hardware and the mining programs on it, each on its own port.

    The farm serves every ``listeners()`` entry: ``http`` ones through its HTTP server, ``rpc``
    ones through its cgminer-style TCP server. A stopped program has no listener (API down)."""

    def __init__(self, ip: str, state: RigState, programs: Sequence[MinerProgram]) -> None:
        ports = [p.port for p in programs]
        if len(set(ports)) != len(ports):
            raise ValueError(f"{state.hostname}: two programs on one port ({ports})")
        owners: dict[str, str] = {}
        for program in programs:
            for bus_id in program.bus_ids:
                if bus_id in owners:
                    raise ValueError(f"{state.hostname}: GPU {bus_id} given to both {owners[bus_id]} and {program.name}")
                owners[bus_id] = program.name
        if sum(p.mines_on_cpu for p in programs) > 1:
            raise ValueError(f"{state.hostname}: more than one program mines on the CPU")
        self.ip = ip
        self.state = state
        self.programs = list(programs)

    def program(self, name: str) -> MinerProgram:
        for program in self.programs:
            if program.name == name:
                return program
        raise KeyError(f"{self.state.hostname} runs no {name}")

    def listeners(self) -> list[MinerProgram]:
        """The programs whose API answers now (their ``port`` and ``protocol`` say where and how)."""
        return [p for p in self.programs if p.running]

    def stop_program(self, name: str) -> None:
        """API down: the program exited; the farm closes its listener."""
        self.program(name).running = False

    def start_program(self, name: str, now: float) -> None:
        """The program starts again: a new session, so its uptime and share counters restart."""
        self.program(name).restart(now)

    def expected(self) -> dict[str, Any]:
        """The inventory row tests compare the sentry's reading with."""
        return {
            "ip": self.ip,
            "hostname": self.state.hostname,
            "cpu": {"model": self.state.cpu.model, "threads": self.state.cpu.threads},
            "gpus": [
                {"bus_id": g.bus_id, "vendor": g.vendor, "name": g.name, "hashrate_nominal_hs": g.hashrate_nominal_hs}
                for g in self.state.gpus
            ],
            "programs": [p.expected() for p in self.programs],
        }


# -- generating a farm's rigs ------------------------------------------------------------------

# GPU models: (name, relative speed, nominal power W, memory-junction sensor, core MHz, memory MHz).
GPU_MODELS: dict[str, tuple[tuple[str, float, float, bool, int, int], ...]] = {
    "nvidia": (
        ("NVIDIA GeForce RTX 3060 Ti", 0.85, 150.0, False, 1410, 7000),
        ("NVIDIA GeForce RTX 3070", 1.0, 165.0, False, 1500, 7000),
        ("NVIDIA GeForce RTX 3080", 1.45, 240.0, True, 1440, 9500),
    ),
    "amd": (
        ("AMD Radeon RX 580 Series", 0.55, 120.0, False, 1150, 2000),
        ("AMD Radeon RX 6600 XT", 0.9, 95.0, True, 1900, 2150),
        ("AMD Radeon RX 6800", 1.2, 140.0, True, 1300, 2150),
    ),
}

# H/s (or Sol/s) of a relative-speed-1.0 card per algorithm, and of a whole CPU for CPU algorithms.
ALGORITHM_HS: dict[str, float] = {
    "kawpow": 24e6, "Etchash": 58e6, "Ethash": 58e6, "etchash": 58e6, "autolykos2": 160e6,
    "ergo": 160e6, "kaspa": 1.1e9, "equihash125_4": 55.0, "xelishashv3": 9e3, "randomx": 9.5e3,
    "rx/0": 9.5e3,
}

CPU_MODELS = (
    ("AMD Ryzen 9 5950X 16-Core Processor", 32),
    ("AMD Ryzen 7 5800X 8-Core Processor", 16),
    ("Intel(R) Core(TM) i5-10400 CPU @ 2.90GHz", 12),
)

# Rig i runs PROFILES[i % len(PROFILES)]: (GPU vendor, ((program, algorithm, on GPUs, on CPU), ...)).
# Every program appears, a few rigs mine with CPU and GPUs at once, and both lolMiner layouts are used.
# SRBMiner-MULTI alone mines two algorithms at once: this one on the CPU beside its GPU algorithm.
CPU_ALGORITHM_BESIDE = {"srbminer_multi": "randomx"}

PROFILES: tuple[tuple[str, tuple[tuple[str, str, bool, bool], ...]], ...] = (
    ("nvidia", (("trex", "kawpow", True, False), ("xmrig", "rx/0", False, True))),
    ("amd", (("lolminer", "Etchash", True, False),)),
    ("amd", (("teamredminer", "kawpow", True, False),)),
    ("nvidia", (("gminer", "equihash125_4", True, False),)),
    ("nvidia", (("nbminer", "ergo", True, False),)),
    ("amd", (("srbminer_multi", "kawpow", True, True),)),
    ("amd", (("nanominer", "Etchash", True, False),)),
    ("nvidia", (("rigel", "kawpow", True, False),)),
    ("nvidia", (("bzminer", "kaspa", True, False),)),
    ("nvidia", (("onezerominer", "xelishashv3", True, False),)),
    ("amd", (("lolminer_legacy", "Ethash", True, False),)),
    ("nvidia", (("xmrig", "rx/0", True, True),)),
)


def generate_rig(ip: str, index: int, seed: int, now: float) -> EmulatedRig:
    """Rig number ``index`` of a farm generated from ``seed``, as it is at ``now``.

    The same (ip, index, seed) gives the same rig: hardware, programs, ports and values."""
    rng = random.Random(f"{seed}/rig/{ip}/{index}")
    vendor, programs = PROFILES[index % len(PROFILES)]
    gpu_algorithm = next((algo for _, algo, on_gpus, _ in programs if on_gpus), None)
    cpu_algorithm = next((CPU_ALGORITHM_BESIDE.get(program, algo) for program, algo, _, on_cpu in programs if on_cpu),
                         None)
    name, speed, power, has_mem_sensor, core, mem = rng.choice(GPU_MODELS[vendor])
    buses = sorted(rng.sample(range(1, 0x30), rng.randint(4, 8)))
    gpus = [GpuState(
        bus_id=f"0000:{bus:02x}:00.0", vendor=vendor, name=name,
        hashrate_nominal_hs=ALGORITHM_HS[gpu_algorithm] * speed * rng.uniform(0.97, 1.03) if gpu_algorithm else 0.0,
        power_nominal_w=power * rng.uniform(0.95, 1.05), temp_nominal_c=rng.uniform(55.0, 68.0),
        mem_temp_nominal_c=rng.uniform(72.0, 88.0) if has_mem_sensor else None,
        fan_pct_nominal=rng.uniform(45.0, 75.0), fan_rpm_max=rng.choice((3000, 3300, 3600)),
        core_clock_mhz=core, mem_clock_mhz=mem, shares_per_s=rng.uniform(0.01, 0.03),
    ) for bus in buses]
    cpu_model, threads = rng.choice(CPU_MODELS)
    cpu = CpuState(
        model=cpu_model, threads=threads,
        hashrate_nominal_hs=ALGORITHM_HS[cpu_algorithm] * threads / 16 if cpu_algorithm else 0.0,
        temp_nominal_c=rng.uniform(55.0, 75.0), shares_per_s=rng.uniform(0.005, 0.02),
    )
    state = RigState(hostname=f"rig-{index:03d}", seed=rng.getrandbits(32),
                     started_at=now - rng.uniform(600.0, 3 * 86400.0), gpus=gpus, cpu=cpu)
    built = []
    for program, algorithm, on_gpus, on_cpu in programs:
        extra = {"cpu_algorithm": cpu_algorithm} if program in CPU_ALGORITHM_BESIDE and on_cpu else {}
        built.append(MINER_PROGRAMS[program](state, gpus=[g.bus_id for g in gpus] if on_gpus else [],
                                             cpu=on_cpu, algorithm=algorithm, **extra))
    return EmulatedRig(ip, state, built)
