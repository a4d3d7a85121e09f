"""Turning what a person types into addresses: CIDR, ranges, single IPs, IP:PORT and @file."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_ADDRESSES = 1 << 20  # a /12: more than any farm, less than a typo like 10.0.0.0/8 scanned by mistake


class TargetError(ValueError):
    """A target a person typed that is not an address, range, network or readable file; ``expected``
    says what it should have been, for a caller that words its own sentence."""

    def __init__(self, sentence: str, expected: str | None = None) -> None:
        super().__init__(sentence)
        self.expected = expected


_A_SUBNET = "a network like 10.0.3.0/24, a range like 10.0.3.1-10.0.3.200 or an address"
_AN_ORDERED_RANGE = "a range that ends after it starts"


@dataclass(frozen=True, slots=True)
class Target:
    ip: str
    port: int | None = None  # None: the driver's own port


@dataclass(frozen=True)
class Subnet:
    """A CIDR network, a range ``first-last`` or one address, as typed (``text``) and as bounds: a
    set of addresses tested without listing them."""

    text: str
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def __contains__(self, ip: object) -> bool:
        try:
            return self.first <= int(ipaddress.IPv4Address(str(ip))) <= self.last
        except ValueError:
            return False


def subnet(text: str) -> Subnet:
    """A network, range or address in ``expand``'s syntax, checked without listing its addresses."""
    try:
        if "/" in text:
            network = ipaddress.IPv4Network(text.strip(), strict=False)
            start, end = int(network.network_address), int(network.broadcast_address)
        elif "-" in text:
            first, _, last = text.partition("-")
            start, end = int(ipaddress.IPv4Address(first.strip())), int(ipaddress.IPv4Address(last.strip()))
        else:
            start = end = int(ipaddress.IPv4Address(text.strip()))
    except ValueError as exc:
        raise TargetError(f"{text!r} is not {_A_SUBNET}", _A_SUBNET) from exc
    if end < start:
        raise TargetError(f"{text!r} is not {_AN_ORDERED_RANGE}", _AN_ORDERED_RANGE)
    return Subnet(text, start, end)


def _one(text: str) -> Iterator[Target]:
    if text.startswith("@"):
        yield from _from_file(Path(text[1:]))
        return
    if "/" in text:
        try:
            network = ipaddress.IPv4Network(text, strict=False)
        except ValueError as exc:
            raise TargetError(f"{text!r} is not a network like 10.0.3.0/24") from exc
        _check_size(network.num_addresses, text)
        hosts = network.hosts() if network.prefixlen < 31 else iter(network)
        yield from (Target(str(ip)) for ip in hosts)
        return
    if "-" in text:
        first, _, last = text.partition("-")
        try:
            start, end = ipaddress.IPv4Address(first.strip()), ipaddress.IPv4Address(last.strip())
        except ValueError as exc:
            raise TargetError(f"{text!r} is not an IPv4 address or a range like 10.0.3.1-10.0.3.200") from exc
        if end < start:
            raise TargetError(f"{text!r} ends before it starts")
        _check_size(int(end) - int(start) + 1, text)
        yield from (Target(str(ipaddress.IPv4Address(n))) for n in range(int(start), int(end) + 1))
        return
    host, sep, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    try:
        address = ipaddress.IPv4Address(host)
        number = int(port) if sep else None
    except ValueError as exc:
        raise TargetError(f"{text!r} is not an IPv4 address (with an optional :port)") from exc
    if number is not None and not 0 < number < 65536:
        raise TargetError(f"{text!r} has a port outside 1-65535")
    yield Target(str(address), number)


def _check_size(count: int, text: str) -> None:
    if count > MAX_ADDRESSES:
        raise TargetError(f"{text!r} holds {count:,} addresses, more than {MAX_ADDRESSES:,}: narrow the targets")


def _from_file(path: Path) -> Iterator[Target]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise TargetError(f"cannot read the target file {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            yield from _one(entry)
        except TargetError as exc:
            raise TargetError(f"{path}, line {number}: {exc}") from exc


def expand(texts: list[str]) -> list[Target]:
    """Every target, in the order given, without repeats; refuses more than MAX_ADDRESSES."""
    seen: dict[Target, None] = {}
    for text in texts:
        for target in _one(text.strip()):
            seen.setdefault(target)
            if len(seen) > MAX_ADDRESSES:
                raise TargetError(f"more than {MAX_ADDRESSES:,} addresses: narrow the targets")
    return list(seen)
