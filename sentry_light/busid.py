"""PCI bus ids in the one form the sentry keys GPUs by: ``0000:0a:00.0`` (domain, bus, device, function;
lower-case hex).

Every source spells them its own way, so each reader converts with the helper for its spelling:

- NVML: ``00000000:0A:00.0`` (an 8-digit domain), GMiner and Rigel: ``0000:0a:00.0`` -> ``bus_id``
- XMRig's CUDA backend, nanominer: ``0a:00.0`` (no domain) -> ``bus_id``
- T-Rex: domain, bus and device as decimal integers -> ``from_parts``
- NBMiner, SRBMiner-MULTI, BzMiner, OneZeroMiner: the bus number alone, decimal -> ``from_bus_number``
- lolMiner: ``"10:0"``, bus and device in decimal -> ``from_lolminer``
"""

from __future__ import annotations

import re

_HEX_ID = re.compile(r"^(?:(?P<domain>[0-9a-fA-F]{1,8}):)?(?P<bus>[0-9a-fA-F]{1,2}):"
                     r"(?P<device>[0-9a-fA-F]{1,2})\.(?P<function>[0-7])$")


def from_parts(domain: int, bus: int, device: int = 0, function: int = 0) -> str | None:
    if not (0 <= domain <= 0xFFFF and 0 <= bus <= 0xFF and 0 <= device <= 0x1F and 0 <= function <= 7):
        return None
    return f"{domain:04x}:{bus:02x}:{device:02x}.{function}"


def bus_id(value: object) -> str | None:
    """``[domain:]bus:device.function`` in hex, in any case and domain width, or None."""
    if not isinstance(value, (str, bytes)):
        return None
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    match = _HEX_ID.match(text.strip().rstrip("\x00"))
    if match is None:
        return None
    return from_parts(int(match["domain"] or "0", 16), int(match["bus"], 16), int(match["device"], 16),
                      int(match["function"]))


def from_bus_number(value: object) -> str | None:
    """The bus number alone (decimal, as an int or a numeric string): device 0, function 0, domain 0."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return from_parts(0, value) if isinstance(value, int) else None


def from_lolminer(value: object) -> str | None:
    """lolMiner's ``PCIE_Address``: ``"bus:device"``, both decimal."""
    if not isinstance(value, str):
        return None
    bus, _, device = value.strip().partition(":")
    if not (bus.isdigit() and device.isdigit()):
        return None
    return from_parts(0, int(bus), int(device))


def bus_number(value: str) -> int:
    """The bus number of a normalized id: ``0000:0a:00.0`` -> 10."""
    return int(value.split(":")[1], 16)
