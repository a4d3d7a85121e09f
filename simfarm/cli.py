"""``minerwatch simulate``: run an emulated farm (ASICs and CPU/GPU rigs) on loopback until stopped."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvloop

from simfarm.asic import MAKES
from simfarm.control import ControlApi
from simfarm.farm import Farm, FarmError


def parse_mix(text: str) -> dict[str, float]:
    """``antminer=40,whatsminer=30`` -> {"antminer": 40.0, "whatsminer": 30.0}."""
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        try:
            mix[name.strip()] = float(weight) if sep else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not MAKE=WEIGHT") from None
    return mix


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run an emulated mining farm on loopback",
        description="Emulated ASICs and CPU/GPU rigs, one per loopback address, speaking their firmware's "
                    "and mining programs' protocols, until SIGINT/SIGTERM. Writes an inventory of what each "
                    "should report.")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--miners", type=int, default=10, help="number of emulated ASICs (default 10)")
    parser.add_argument("--rigs", type=int, default=0,
                        help="number of emulated CPU/GPU rigs, each running its mining programs' APIs (default 0)")
    parser.add_argument("--mix", type=parse_mix, default=None,
                        help=f"makes and weights, e.g. antminer=40,whatsminer=30 (makes: {', '.join(sorted(MAKES))};"
                             " default: all equally)")
    parser.add_argument("--base", default="127.77.0.1", help="first address; the farm counts up from it")
    parser.add_argument("--rig-base", default=None, metavar="ADDRESS",
                        help="first rig address (default: the start of the /16 after the miners' last address, "
                             "127.78.0.1 with the default --base)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same farm")
    parser.add_argument("--faults", type=float, default=0.0, metavar="RATE",
                        help="fraction of miners given a random fault at start (0..1)")
    parser.add_argument("--hostile", type=float, default=0.0, metavar="RATE",
                        help="fraction of miners that attack their monitor, each attack in turn "
                             "(simfarm/faults.py ATTACKS; default 0)")
    parser.add_argument("--inventory", default="simfarm-inventory.json", metavar="FILE",
                        help="where to write the inventory (default simfarm-inventory.json)")
    parser.add_argument("--web-port", type=int, default=80, help="web UI port of makes that serve on 80")
    parser.add_argument("--web-port-fallback", type=int, default=8080,
                        help="web port used when port 80 cannot be bound (no root or CAP_NET_BIND_SERVICE)")
    parser.add_argument("--control-port", type=int, default=0, help="control API port on 127.0.0.1 (0: any free)")


def run(args: argparse.Namespace) -> int:
    try:
        return uvloop.run(_serve(args))
    except FarmError as err:
        print(f"simfarm: {err}", file=sys.stderr)
        return 1


async def _serve(args: argparse.Namespace) -> int:
    try:
        farm = Farm(miners=args.miners, mix=args.mix, base=args.base, seed=args.seed, fault_rate=args.faults,
                    web_port=args.web_port, web_port_fallback=args.web_port_fallback, rigs=args.rigs,
                    rig_base=args.rig_base, hostile_rate=args.hostile)
    except ValueError as err:
        raise FarmError(str(err)) from err
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await farm.start()
    control = ControlApi(farm, port=args.control_port)
    try:
        await control.start()
        farm.write_inventory(args.inventory)
        for line in _banner(farm, control, args.inventory):
            print(line, flush=True)
        await stop.wait()
    finally:
        await control.stop()
        await farm.stop()
    print("simfarm: stopped", flush=True)
    return 0


def _banner(farm: Farm, control: ControlApi, inventory: str) -> list[str]:
    ips = list(farm.miners)
    counts: dict[str, int] = {}
    for name in farm.kind.values():
        counts[name] = counts.get(name, 0) + 1
    ports: dict[str, set[int]] = {}
    for miner in farm.miners.values():
        for protocol, port in farm.ports(miner).items():
            ports.setdefault(protocol, set()).add(port)
    faulty = sum(1 for m in farm.miners.values() if m.faults)
    lines = [
        f"simfarm: {len(ips)} miners on {ips[0]} .. {ips[-1]}" if ips else "simfarm: no miners",
        "simfarm: makes " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())),
        "simfarm: ports " + ", ".join(f"{p} {'/'.join(map(str, sorted(v)))}" for p, v in ports.items()),
    ]
    if farm.web_note:
        lines.append(f"simfarm: {farm.web_note}")
    if farm.rigs:
        rigs = list(farm.rigs)
        programs: dict[tuple[str, int], int] = {}
        for rig in farm.rigs.values():
            for program in rig.programs:
                programs[program.name, program.port] = programs.get((program.name, program.port), 0) + 1
        lines += [
            f"simfarm: {len(rigs)} rigs on {rigs[0]} .. {rigs[-1]}",
            "simfarm: rig programs " + ", ".join(f"{name} {n} (port {port})"
                                                 for (name, port), n in sorted(programs.items())),
        ]
    lines += [
        f"simfarm: {faulty} miners with faults",
        f"simfarm: control {control.url} (GET /inventory, GET /rigs, POST /faults, DELETE /faults/<ip>)",
        f"simfarm: inventory {inventory}",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simfarm", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
