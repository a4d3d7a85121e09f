"""The contract between a rig and one emulated mining program.

A program is a ``MinerProgram`` subclass that only builds replies from the rig's readings; it
never touches sockets. ``http()``/``rpc()`` return None for a request the program does not know,
and the farm's server answers it as a stray request is answered (404, or the RPC error).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

if TYPE_CHECKING:
    from simfarm.rigs.rig import CpuReading, GpuReading, RigState

HttpReply = tuple[int, dict[str, str], bytes]


def json_reply(body: Any) -> HttpReply:
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def bus_number(bus_id: str) -> int:
    """The PCI bus number of ``0000:0a:00.0`` (10): what most miners print as the GPU's bus."""
    return int(bus_id.split(":")[1], 16)


def short_bus_id(bus_id: str) -> str:
    """``0000:0a:00.0`` without its PCI domain: ``0a:00.0``."""
    return bus_id.split(":", 1)[1]


class MinerProgram:
    """Base of every emulated mining program.

    A program mines with the GPUs whose bus ids it is given and, if ``cpu``, with the CPU. Its
    share counters are its session's: they start at zero when the program (re)starts."""

    name: ClassVar[str]  # registry key, e.g. "trex"
    title: ClassVar[str]  # how the program names itself, e.g. "T-Rex"
    version: ClassVar[str]
    default_port: ClassVar[int]
    protocol: ClassVar[str]  # "http" | "rpc"
    vendors: ClassVar[frozenset[str]]  # the GPU vendors it can mine with
    cpu_capable: ClassVar[bool] = False
    default_algorithm: ClassVar[str]

    def __init__(self, state: RigState, *, gpus: Sequence[str] = (), cpu: bool = False,
                 algorithm: str | None = None, port: int | None = None,
                 pool: str = "stratum+tcp://pool.example.net:3333", user: str = "wallet.worker") -> None:
        for bus_id in gpus:
            vendor = state.gpu(bus_id).vendor
            if vendor not in self.vendors:
                raise ValueError(f"{self.title} cannot mine with the {vendor} GPU at {bus_id}")
        if cpu and not self.cpu_capable:
            raise ValueError(f"{self.title} does not mine on CPUs")
        self.state = state
        self.bus_ids = sorted(gpus)
        self.mines_on_cpu = cpu
        self.algorithm = algorithm or self.default_algorithm
        self.port = port or self.default_port
        self.pool = pool
        self.user = user
        self.running = True
        self.started_at = state.started_at
        self._baseline: dict[str, tuple[int, int]] = {}

    def restart(self, now: float) -> None:
        self.running = True
        self.started_at = now
        self._baseline = {g.bus_id: (g.accepted, g.rejected) for g in self._all_gpus(now)}
        if self.mines_on_cpu:
            cpu = self.state.read_cpu(now)
            self._baseline["cpu"] = (cpu.accepted, cpu.rejected)

    # -- what a builder reads -------------------------------------------------------------------

    def gpus(self, now: float) -> list[GpuReading]:
        """This program's GPUs at ``now``, in bus order; a lost GPU is not there at all."""
        return [self._session(g) for g in self._all_gpus(now) if not self.state.gpu(g.bus_id).lost]

    def cpu(self, now: float) -> CpuReading | None:
        if not self.mines_on_cpu:
            return None
        reading = self.state.read_cpu(now)
        accepted, rejected = self._baseline.get("cpu", (0, 0))
        return replace(reading, accepted=reading.accepted - accepted, rejected=reading.rejected - rejected)

    def uptime_s(self, now: float) -> int:
        return int(max(0.0, now - self.started_at))

    def totals(self, now: float) -> tuple[float, int, int]:
        """(hashrate H/s, accepted, rejected) over every device this program mines with."""
        devices: list[Any] = self.gpus(now)
        cpu = self.cpu(now)
        if cpu is not None:
            devices.append(cpu)
        return (sum(d.hashrate_hs for d in devices), sum(d.accepted for d in devices),
                sum(d.rejected for d in devices))

    # -- what the farm calls --------------------------------------------------------------------

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        return None

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        return None

    def expected(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "version": self.version,
            "port": self.port, "protocol": self.protocol, "algorithm": self.algorithm,
            "gpus": list(self.bus_ids), "cpu": self.mines_on_cpu,
            "hashrate_nominal_hs": sum(self.state.gpu(b).hashrate_nominal_hs for b in self.bus_ids)
            + (self.state.cpu.hashrate_nominal_hs if self.mines_on_cpu else 0.0),
        }

    def _all_gpus(self, now: float) -> list[GpuReading]:
        return [self.state.read_gpu(b, now) for b in self.bus_ids]

    def _session(self, reading: GpuReading) -> GpuReading:
        accepted, rejected = self._baseline.get(reading.bus_id, (0, 0))
        return replace(reading, accepted=reading.accepted - accepted, rejected=reading.rejected - rejected)
