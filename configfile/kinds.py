"""Kinds of values: each takes a TOML value and returns it as the dataclass wants it, or raises
``Wrong`` saying what was expected, worded to follow "must be" ("a positive number of seconds"), so
that ``Table.get`` makes the sentence: "'poll_s' in [intervals] must be a positive number of seconds,
not the string '30'"."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collectors.targets import Subnet, TargetError
from collectors.targets import subnet as _subnet

Kind = Callable[[Any], Any]


class Wrong(ValueError):
    """A value of the wrong kind; the message says what was expected ("a string")."""


def string(value: Any) -> str:
    """Any string, the empty one included (a factory login may have an empty password)."""
    if not isinstance(value, str):
        raise Wrong("a string")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Wrong("a non-empty string")
    return value


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise Wrong("a name of letters, digits, '.', '_' or '-'")
    return value


def texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Wrong("an array of non-empty strings")
    return tuple(value)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Wrong("true or false")
    return value


def _real(value: Any) -> bool:
    # bool is an int in Python, and TOML has inf and nan: neither is a count of anything.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(minimum: float) -> Kind:
    """A number, ``minimum`` or more."""
    def kind(value: Any) -> float:
        if not _real(value) or value < minimum:
            raise Wrong(f"a number, {minimum:g} or more")
        return value
    return kind


def seconds(value: Any) -> float:
    if not _real(value) or not value > 0:
        raise Wrong("a positive number of seconds")
    return value


def seconds_or_zero(value: Any) -> float:
    if not _real(value) or value < 0:
        raise Wrong("a number of seconds, 0 or more")
    return value


def count(value: Any) -> int:
    if not _real(value) or not isinstance(value, int) or value < 1:
        raise Wrong("a whole number, 1 or more")
    return value


def port(value: Any) -> int:
    if not _real(value) or not isinstance(value, int) or not 0 < value < 65536:
        raise Wrong("a port number, 1 to 65535")
    return value


def path(value: Any) -> Path:
    if not isinstance(value, str) or not value.startswith("/"):
        raise Wrong("an absolute path")
    return Path(value)


def choice(*options: str) -> Kind:
    """One of ``options``, in any case, returned as ``options`` spell it ("sha-256" is "SHA-256")."""
    spelled = {option.lower(): option for option in options}

    def kind(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in spelled:
            raise Wrong("one of " + ", ".join(f"'{o}'" for o in options))
        return spelled[value.lower()]
    return kind


_HOSTNAME_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def host(value: Any) -> str:
    """An IP address or a host name by its syntax alone: resolving it is the poll's job, not start-up's."""
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            labels = value.rstrip(".").split(".")
            if len(value) <= 253 and all(_HOSTNAME_LABEL.fullmatch(label) for label in labels) \
                    and not labels[-1].isdigit():
                return value
    raise Wrong("an IP address or a host name")


def address(value: Any) -> tuple[str, int | None]:
    """``IP`` or ``IP:PORT``, as collectors.targets reads a single target."""
    if isinstance(value, str):
        ip, sep, digits = value.partition(":")
        try:
            number = int(digits) if sep else None
            if number is None or 0 < number < 65536:
                return str(ipaddress.IPv4Address(ip)), number
        except ValueError:
            pass
    raise Wrong("an IPv4 address with an optional :port, like '10.0.3.15' or '10.0.3.15:4029'")


def listen(value: Any) -> tuple[str, int]:
    """``IP:PORT`` to listen on (``[IPv6]:PORT`` for IPv6): an address, never a name to resolve."""
    if isinstance(value, str):
        host, sep, digits = value.rpartition(":")
        bracketed = host.startswith("[") and host.endswith("]")
        try:
            address = ipaddress.ip_address(host[1:-1] if bracketed else host)
        except ValueError:
            address = None
        if address and sep and digits.isdigit() and 0 < int(digits) < 65536 and (address.version == 6) == bracketed:
            return str(address), int(digits)
    raise Wrong("an address and port to listen on, like '127.0.0.1:8080', '0.0.0.0:8080' or '[::]:8080'")


def ip(value: Any) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise Wrong("an IP address")


def subnet(text: str) -> Subnet:
    """A network, range or address in collectors.targets' syntax, checked without listing its addresses."""
    try:
        return _subnet(text)
    except TargetError as exc:
        raise Wrong(exc.expected) from exc
