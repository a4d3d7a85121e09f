"""A farm of emulated miners on loopback: who is where, what each does now, and its faults.

``Farm`` builds N miners from a make mix, one per loopback address, deterministically from a seed,
and M CPU/GPU rigs (``simfarm.rigs``) on addresses of their own; ``start`` opens each device's
listeners (RPC, web, 4433 as its make has them; one per running program of a rig) and ``stop``
closes them all. Live values are computed from the clock when a reply is built (``Live``, and the
rigs' own ``RigState``), never by a timer, so an idle farm of 10,000 miners costs no CPU.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import math
import os
import random
import socket
import string
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from collectors.asic.models import lookup_model
from simfarm import faults as fault_table
from simfarm.asic import MAKES
from simfarm.device import BoardState, EmulatedMiner, MinerState, PoolState
from simfarm.faults import FaultKind
from simfarm.rigs.programs.base import MinerProgram
from simfarm.rigs.rig import EmulatedRig, generate_rig
from simfarm.servers import BtminerProtocol, Connections, HttpProtocol, RpcProtocol, listen, raise_fd_limit

WANDER = 0.03  # hashrate wanders ±3 % around nominal
TAU = 2 * math.pi
FD_HEADROOM = 1024  # file descriptors left for connections beyond the listeners

# A rig's faults (the calls are in simfarm/rigs/README.md). They are kept and shown like an ASIC's,
# {fault: params}, so one of each at a time: injecting one again moves it. A missing parameter
# means the rig's first program, or its first GPU in bus order.
RIG_FAULTS: dict[str, FaultKind] = {kind.name: kind for kind in (
    FaultKind("api_down", "listener", "the mining program exited: its API port refuses connections",
              {"program": None}),
    FaultKind("gpu_lost", "state", "a GPU fell off the bus: it is absent from every reply", {"bus_id": None}),
    FaultKind("gpu_hot", "state", "a GPU at about 92 °C, fan 100 %, hashrate throttled to 85 %", {"bus_id": None}),
    FaultKind("hashrate_zero", "state", "every device at 0 H/s, shares frozen, power at idle", {}),
)}


class FarmError(Exception):
    """The farm cannot start as asked; the message is one sentence for the user."""


class Counter:
    """A share or error counter that only grows: ``base`` plus ``rate`` per second since ``since``.
    A rate change folds what was counted so far into ``base``, so the value never steps back."""

    __slots__ = ("base", "since", "rate")

    def __init__(self, base: float, since: float, rate: float) -> None:
        self.base, self.since, self.rate = base, since, rate

    def value(self, now: float) -> int:
        return int(self.base + self.rate * max(0.0, now - self.since))

    def set_rate(self, now: float, rate: float) -> None:
        self.base += self.rate * max(0.0, now - self.since)
        self.since, self.rate = now, rate

    def reset(self, now: float) -> None:
        self.base, self.since = 0.0, now


class Live:
    """One miner's live values as functions of time (and of its state faults)."""

    def __init__(self, miner: EmulatedMiner, rng: random.Random, now: float) -> None:
        state = miner.state
        self.miner = miner
        self.last = now
        self.ambient_c = rng.uniform(18.0, 30.0)
        self.phases = [rng.uniform(0.0, TAU) for _ in range(2 * len(state.boards) + len(state.fans_rpm))]
        self.fans_nominal = list(state.fans_rpm)
        self.share_per_s = rng.uniform(0.02, 0.1)  # accepted shares per second at full hashrate
        self.reject_ratio = rng.uniform(0.001, 0.01)
        self.hw_per_s = rng.uniform(0.0005, 0.01)  # hardware errors per second per board
        ran = now - state.started_at
        self.accepted = Counter(self.share_per_s * ran, now, 0.0)
        self.rejected = Counter(self.share_per_s * self.reject_ratio * ran, now, 0.0)
        self.hw = [Counter(self.hw_per_s * ran, now, 0.0) for _ in state.boards]
        self.retune(now)
        self(now)

    def _chips(self, index: int, expected: int) -> int:
        faults = self.miner.faults
        if faults.get("dead_board", {}).get("board") == index:
            return 0
        missing = faults.get("missing_chips")
        if missing and missing["board"] == index:
            return max(0, expected - missing["missing"])
        return expected

    def retune(self, now: float) -> None:
        """Set the counters' rates from the faults in force; call whenever they change."""
        state, faults = self.miner.state, self.miner.faults
        working = sum(self._chips(b.index, b.chips_expected) / max(1, b.chips_expected) for b in state.boards)
        fraction = working / max(1, len(state.boards))
        share = 0.0 if "pool_down" in faults else self.share_per_s * fraction
        rejected = share * self.reject_ratio
        if "reject_storm" in faults and "pool_down" not in faults:
            rejected = faults["reject_storm"]["per_s"]
        self.accepted.set_rate(now, share)
        self.rejected.set_rate(now, rejected)
        for board, counter in zip(state.boards, self.hw):
            counter.set_rate(now, self.hw_per_s if self._chips(board.index, board.chips_expected) else 0.0)

    def reboot(self, now: float) -> None:
        self.miner.state.started_at = now
        for counter in (self.accepted, self.rejected, *self.hw):
            counter.reset(now)

    def __call__(self, now: float) -> None:
        now = max(now, self.last)  # a clock stepping back must not make counters step back
        self.last = now
        state, faults, phases = self.miner.state, self.miner.faults, self.phases
        nboards = len(state.boards)

        stopped = faults.get("fan_stopped", {}).get("fan")
        for i, nominal in enumerate(self.fans_nominal):
            wobble = 1 + 0.01 * math.sin(now / 41 + phases[2 * nboards + i])
            state.fans_rpm[i] = 0 if i == stopped else int(nominal * wobble) // 10 * 10
        cooling = sum(state.fans_rpm) / max(1, sum(self.fans_nominal))
        heat = faults["overheating"]["add_c"] if "overheating" in faults else 0.0

        average = 0.0
        for i, board in enumerate(state.boards):
            board.chips = self._chips(i, board.chips_expected)
            board.dead = board.chips == 0
            load = board.chips / max(1, board.chips_expected)
            wander = 0.6 * math.sin(now / 97 + phases[2 * i]) + 0.4 * math.sin(now / 613 + phases[2 * i + 1])
            board.hashrate_hs = board.hashrate_ideal_hs * load * (1 + WANDER * wander)
            average += board.hashrate_ideal_hs * load
            # Boards heat with load and cool with airflow: fewer fan RPM, hotter boards.
            board.temp_board_c = self.ambient_c + 32 * load / max(cooling, 0.4) + heat
            board.temp_chip_c = board.temp_board_c + 15 * load
            board.hw_errors = self.hw[i].value(now)
        state.hashrate_avg_hs = average if nboards else 0.0

        for pool in state.pools:
            pool.alive = "pool_down" not in faults
        active = state.pools[0] if state.pools else None
        if active is not None:
            active.accepted = self.accepted.value(now)
            active.rejected = self.rejected.value(now)


def addresses(base: str, count: int, what: str = "miners", flag: str = "--base") -> Iterator[str]:
    """``count`` addresses from ``base`` upwards, skipping .0 and .255 host parts, inside 127/8."""
    loopback = ipaddress.ip_network("127.0.0.0/8")
    address = ipaddress.ip_address(base)
    made = 0
    while made < count:
        if address not in loopback:
            raise FarmError(f"{count} {what} from {base} run past 127.255.255.254; choose a lower {flag}.")
        if str(address).rsplit(".", 1)[1] not in ("0", "255"):
            yield str(address)
            made += 1
        address += 1


def next_block(address: str) -> str:
    """The first address of the /16 after ``address``'s: where the rigs start unless told, so that
    they never share a block with the ASICs (127.77.x.y -> 127.78.0.1)."""
    block = ipaddress.ip_network(f"{address}/16", strict=False)
    return str(block.broadcast_address + 2)


def split(total: int, mix: Mapping[str, float]) -> dict[str, int]:
    """``total`` miners shared by weight (largest remainder, ties by name): always sums to ``total``."""
    weight = sum(mix.values())
    if weight <= 0:
        raise FarmError("The make mix needs at least one positive weight.")
    exact = {name: total * w / weight for name, w in mix.items()}
    counts = {name: int(share) for name, share in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (counts[name] - exact[name], name))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


def build_miner(cls: type[EmulatedMiner], ip: str, rng: random.Random, now: float) -> EmulatedMiner:
    """One miner of make ``cls`` at ``ip``, its model and rated figures from the models table."""
    model = rng.choice(cls.models)
    spec = lookup_model(model)
    if spec is None:
        raise FarmError(f"{cls.__name__} emulates {model!r}, which collectors.asic.models does not list.")
    chips = spec.chips_per_board or 100  # the table leaves some chip counts unknown; any count will do
    per_board = spec.hashrate_nominal_hs / spec.boards
    boards = [BoardState(index=i, chips=chips, chips_expected=chips, hashrate_hs=per_board,
                         temp_board_c=0.0, temp_chip_c=0.0, frequency_mhz=500.0, hashrate_ideal_hs=per_board)
              for i in range(spec.boards)]
    hostname = "miner-" + ip.replace(".", "-")
    pools = [PoolState(i, f"stratum+tcp://pool{i + 1}.simfarm.test:3333", f"simfarm.{hostname}") for i in range(3)]
    state = MinerState(
        model=model, hashrate_nominal_hs=spec.hashrate_nominal_hs, power_w=float(spec.power_w or 0),
        boards=boards, fans_rpm=[rng.randrange(4200, 5400, 60) for _ in range(spec.fans)], pools=pools,
        mac="02:" + ":".join(f"{rng.randrange(256):02X}" for _ in range(5)),  # locally administered
        serial="".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(17)),
        hostname=hostname, started_at=now - rng.uniform(3600, 30 * 86400))
    miner = cls(ip, state, rng)  # a make may adjust the state in __init__ (frequency, fans ...)
    miner.live = Live(miner, rng, now)
    return miner


class Farm:
    """Emulated miners on loopback; ``async with Farm(...) as farm:`` starts and stops it."""

    def __init__(self, miners: int = 10, mix: Mapping[str, float] | None = None, base: str = "127.77.0.1",
                 seed: int = 0, fault_rate: float = 0.0, web_port: int = 80, web_port_fallback: int = 8080,
                 rigs: int = 0, rig_base: str | None = None, hostile_rate: float = 0.0,
                 makes: Mapping[str, type[EmulatedMiner]] = MAKES, clock: Callable[[], float] = time.time) -> None:
        """``clock``: Unix seconds, what live values (uptime, shares, drift) are computed at; a test
        that must see time pass passes one it moves itself, rather than sleeping."""
        mix = dict(mix or {name: 1.0 for name in makes})
        unknown = sorted(set(mix) - set(makes))
        if unknown:
            raise FarmError(f"Unknown make {', '.join(unknown)}; known makes: {', '.join(sorted(makes))}.")
        self.seed, self.base = seed, base
        self.web_port, self.web_port_fallback = web_port, web_port_fallback
        self.web_note = ""  # the sentence saying why the web UIs are not on the port asked for
        self.inventory_path: str | None = None  # once written, rewritten on every fault change
        self.clock = clock
        rng = random.Random(seed)
        kinds = [name for name, count in sorted(split(miners, mix).items()) for _ in range(count)]
        rng.shuffle(kinds)
        now = clock()
        self.kind: dict[str, str] = {}
        self.miners: dict[str, EmulatedMiner] = {}
        for ip, name in zip(addresses(base, miners), kinds):
            self.kind[ip] = name
            self.miners[ip] = build_miner(makes[name], ip, random.Random(rng.getrandbits(64)), now)
        for ip, fault in fault_table.draw(list(self.miners), fault_rate, rng).items():
            self._apply(self.miners[ip], fault, {}, now)
        # From a generator of its own, so a farm with hostile miners is otherwise the same farm.
        attacks = fault_table.draw_attacks(list(self.miners), hostile_rate, random.Random(f"hostile-{seed}"))
        for ip, name in attacks.items():
            self._apply(self.miners[ip], "hostile", {"attack": name}, now)
        # Each rig draws from its own seed (seed, address, index), so the ASICs stay the same farm
        # whatever the number of rigs.
        self.rig_base = rig_base or next_block(next(reversed(self.miners), base))
        self.rigs = {ip: generate_rig(ip, index, seed, now)
                     for index, ip in enumerate(addresses(self.rig_base, rigs, "rigs", "--rig-base"))}
        shared = sorted(set(self.rigs) & set(self.miners), key=ipaddress.ip_address)
        if shared:
            raise FarmError(f"The rigs from {self.rig_base} and the miners from {base} share {shared[0]}; "
                            f"choose a --rig-base outside the miners' addresses.")
        self.rig_faults: dict[str, dict[str, dict[str, Any]]] = {ip: {} for ip in self.rigs}
        self.connections = Connections(clock)
        self._servers: dict[str, list[Any]] = {}
        self._programs: dict[tuple[str, str], asyncio.Server] = {}  # (rig ip, program name) -> its API
        self.running = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Farm:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        listeners = sum(len(self.ports(m)) for m in self.miners.values())
        listeners += sum(len(rig.programs) for rig in self.rigs.values())
        needed = listeners + FD_HEADROOM
        allowed = raise_fd_limit(needed)
        if allowed < needed:
            raise FarmError(f"The farm needs {needed} open files but this process may open only {allowed}; "
                            f"raise the limit (ulimit -n) or run fewer miners.")
        self._choose_web_port()
        self.running = True
        try:
            for ip, miner in self.miners.items():
                if "offline" not in miner.faults:
                    await self._bind(ip)
            for rig in self.rigs.values():
                for program in rig.listeners():
                    await self._bind_program(rig, program)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        self.running = False
        servers = [server for group in self._servers.values() for server in group]
        servers += self._programs.values()
        self._servers.clear()
        self._programs.clear()
        for server in servers:
            server.close()  # closes the listening socket at once
        self.connections.abort()
        for server in servers:
            await server.wait_closed()

    def _choose_web_port(self) -> None:
        """Port 80 needs root or CAP_NET_BIND_SERVICE; without it the web UIs use the fallback."""
        wants_80 = [ip for ip, m in self.miners.items() if m.web_port == 80]
        if self.web_port != 80 or not wants_80:
            return
        probe = socket.socket()  # closed before the real listeners open
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((wants_80[0], 80))
        except OSError as err:
            why = ("binding port 80 needs root or CAP_NET_BIND_SERVICE" if isinstance(err, PermissionError)
                   else f"port 80 cannot be bound on {wants_80[0]} ({err.strerror})")
            self.web_note = f"The web UIs listen on port {self.web_port_fallback}, because {why}."
            self.web_port = self.web_port_fallback
        finally:
            probe.close()

    def ports(self, miner: EmulatedMiner) -> dict[str, int]:
        """The ports this miner listens on, by protocol, after any remapping of port 80."""
        ports = {"rpc": miner.rpc_port, "web": self.web_port if miner.web_port == 80 else miner.web_port,
                 "btminer": miner.btminer_port}
        return {name: port for name, port in ports.items() if port is not None}

    async def _bind(self, ip: str) -> None:
        miner, connections = self.miners[ip], self.connections

        def web(method: str, path: str, headers: dict[str, str], body: bytes, now: float):
            miner.refresh(now)
            return miner.http(method, path, headers, body, now)

        factories = {
            "rpc": lambda: RpcProtocol(connections, miner, miner.faults),
            "web": lambda: HttpProtocol(connections, web, miner.faults),
            "btminer": lambda: BtminerProtocol(connections, miner),
        }
        group = self._servers.setdefault(ip, [])
        for name, port in self.ports(miner).items():
            try:
                group.append(await listen(ip, port, factories[name]))
            except OSError as err:
                raise FarmError(f"Cannot listen on {ip}:{port}: {err.strerror}.") from err

    def _unbind(self, ip: str) -> None:
        for server in self._servers.pop(ip, []):
            server.close()
        self.connections.abort(ip)

    async def _bind_program(self, rig: EmulatedRig, program: MinerProgram) -> None:
        """A rig program's API on its port: the cgminer-style server for ``rpc`` (TeamRedMiner), HTTP
        for the others. Rig programs carry no transport faults, so neither server is given any."""
        if program.protocol == "rpc":
            factory: Callable[[], asyncio.Protocol] = functools.partial(RpcProtocol, self.connections, program)
        else:
            factory = functools.partial(HttpProtocol, self.connections, program.http)
        try:
            self._programs[rig.ip, program.name] = await listen(rig.ip, program.port, factory)
        except OSError as err:
            raise FarmError(f"Cannot listen on {rig.ip}:{program.port} for {program.title}: {err.strerror}.") from err

    def _unbind_program(self, rig: EmulatedRig, program: MinerProgram) -> None:
        server = self._programs.pop((rig.ip, program.name), None)
        if server is not None:
            server.close()  # the port refuses connections from now on
        self.connections.abort(rig.ip, program.port)

    # -- faults --------------------------------------------------------------------------------

    def _miner(self, ip: str) -> EmulatedMiner:
        try:
            return self.miners[ip]
        except KeyError:
            raise ValueError(f"no emulated miner or rig at {ip}") from None

    def _apply(self, miner: EmulatedMiner, fault: str, params: Mapping[str, Any], now: float) -> None:
        merged = fault_table.params_for(fault, dict(params))
        limits = {"board": len(miner.state.boards), "fan": len(miner.state.fans_rpm)}
        for key, limit in limits.items():
            if key in merged and not 0 <= merged[key] < limit:
                raise ValueError(f"{miner.ip} has {limit} {key}s; {key} {merged[key]} does not exist")
        if fault == "reboot":
            miner.live.reboot(now)
        miner.faults[fault] = merged
        miner.live.retune(now)

    async def inject(self, ip: str, fault: str, **params: Any) -> None:
        """Give ``ip`` a fault (see simfarm/faults.py, or ``RIG_FAULTS`` for a rig), now or before ``start``."""
        if ip in self.rigs:
            await self._inject_rig(self.rigs[ip], fault, params)
            self._changed()
            return
        miner = self._miner(ip)
        self._apply(miner, fault, params, self.clock())
        if fault == "offline" and self.running:
            self._unbind(ip)
        self._changed()

    async def clear(self, ip: str, fault: str | None = None) -> None:
        """Remove one fault, or every fault, of ``ip``."""
        if ip in self.rigs:
            faults, rig, now = self.rig_faults[ip], self.rigs[ip], self.clock()
            for name in [fault] if fault else list(faults):
                if name in faults:
                    await self._rig_fault(rig, name, faults.pop(name), False, now)
            self._changed()
            return
        miner = self._miner(ip)
        was_offline = "offline" in miner.faults
        for name in [fault] if fault else list(miner.faults):
            miner.faults.pop(name, None)
        miner.live.retune(self.clock())
        if was_offline and "offline" not in miner.faults and self.running:
            await self._bind(ip)
        self._changed()

    async def _inject_rig(self, rig: EmulatedRig, fault: str, params: Mapping[str, Any]) -> None:
        if fault not in RIG_FAULTS:
            raise ValueError(f"{rig.ip} is a rig; its faults are {', '.join(RIG_FAULTS)}, not {fault!r}")
        takes = RIG_FAULTS[fault].defaults
        for key in params:
            if key not in takes:
                raise ValueError(f"fault {fault!r} has no parameter {key!r}; it takes: {', '.join(takes) or 'none'}")
        merged: dict[str, Any] = {}
        if "program" in takes:
            names = [p.name for p in rig.programs]
            merged["program"] = str(params.get("program") or names[0])
            if merged["program"] not in names:
                raise ValueError(f"{rig.ip} runs no {merged['program']}; it runs {', '.join(names)}")
        if "bus_id" in takes:
            buses = [g.bus_id for g in rig.state.gpus]
            merged["bus_id"] = str(params.get("bus_id") or buses[0])
            if merged["bus_id"] not in buses:
                raise ValueError(f"{rig.ip} has no GPU at {merged['bus_id']}; its GPUs: {', '.join(buses)}")
        faults, now = self.rig_faults[rig.ip], self.clock()
        if faults.get(fault) == merged:
            return  # already so: undoing and redoing it would restart a stopped program's session
        if fault in faults:  # moved to another program or GPU: the old one recovers first
            await self._rig_fault(rig, fault, faults.pop(fault), False, now)
        await self._rig_fault(rig, fault, merged, True, now)
        faults[fault] = merged

    async def _rig_fault(self, rig: EmulatedRig, fault: str, params: Mapping[str, Any], on: bool,
                         now: float) -> None:
        """Set (``on``) or undo one rig fault in the rig's state and, for ``api_down``, its listener."""
        if fault == "api_down":
            program = rig.program(params["program"])
            if on:
                rig.stop_program(program.name)
                self._unbind_program(rig, program)
            else:
                rig.start_program(program.name, now)
                if self.running:
                    await self._bind_program(rig, program)
        elif fault == "gpu_lost":
            rig.state.set_gpu_lost(params["bus_id"], on, now)
        elif fault == "gpu_hot":
            rig.state.set_gpu_hot(params["bus_id"], on, now)
        else:
            rig.state.set_hashrate_zero(on, now)

    async def inject_rate(self, rate: float, seed: int | None = None) -> dict[str, str]:
        """Random faults on ``rate`` of the miners (not rigs) now free of faults; ip -> fault given."""
        healthy = [ip for ip, miner in self.miners.items() if not miner.faults]
        drawn = fault_table.draw(healthy, rate, random.Random(self.seed if seed is None else seed))
        for ip, fault in drawn.items():
            await self.inject(ip, fault)
        return drawn

    # -- inventory -----------------------------------------------------------------------------

    def inventory(self) -> list[dict[str, Any]]:
        """One row per miner: what the collectors should find there, where, and its faults."""
        return [self._miner_row(ip) for ip in self.miners]

    def rig_inventory(self) -> list[dict[str, Any]]:
        """One row per rig: its hardware, its programs (port, protocol, nominal H/s), its faults."""
        return [self._rig_row(ip) for ip in self.rigs]

    def row(self, ip: str) -> dict[str, Any]:
        """The inventory row of the miner or rig at ``ip``."""
        return self._rig_row(ip) if ip in self.rigs else self._miner_row(ip)

    def _miner_row(self, ip: str) -> dict[str, Any]:
        miner = self._miner(ip)
        row = miner.expected()
        row["ports"] = self.ports(miner)
        row["port"] = next(iter(row["ports"].values()), None)
        row["emulator"] = self.kind[ip]
        row["faults"] = {name: dict(params) for name, params in miner.faults.items()}
        return row

    def _rig_row(self, ip: str) -> dict[str, Any]:
        row = self.rigs[ip].expected()
        row["faults"] = {name: dict(params) for name, params in self.rig_faults[ip].items()}
        return row

    def write_inventory(self, path: str | os.PathLike[str]) -> None:
        """The inventory as JSON at ``path``, by atomic rename; kept up to date from then on."""
        path = os.fspath(path)
        document = {"seed": self.seed, "base": self.base, "web_port": self.web_port, "miners": self.inventory(),
                    "rig_base": self.rig_base, "rigs": self.rig_inventory()}
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".simfarm-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(document, out, indent=1)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        self.inventory_path = path

    def _changed(self) -> None:
        if self.inventory_path:
            self.write_inventory(self.inventory_path)
