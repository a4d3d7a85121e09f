"""Token sessions for the emulated web firmwares that log in with a token or a cookie.

(HTTP Digest, for the Bitmain-style CGI, is in ``simfarm.device``.) A firmware issues a token at
login and accepts it until it expires; ``expire_all`` is that expiry (or a reboot), which lets a
test prove that the collectors log in again.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Sessions:
    issued: set[str] = field(default_factory=set)

    def issue(self) -> str:
        token = secrets.token_hex(16)
        self.issued.add(token)
        return token

    def valid(self, token: str | None) -> bool:
        return token is not None and token in self.issued

    def expire_all(self) -> None:
        self.issued.clear()


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header (names lower-cased by the server)."""
    value = headers.get("authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None


def cookie(headers: Mapping[str, str], name: str) -> str | None:
    """One cookie's value from the request's Cookie header."""
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
