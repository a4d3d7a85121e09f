"""Run one fixed command over SSH, for the few firmwares where nothing else serves.

The command is a constant string from the driver, never built from anything a device
sent, so a device cannot make us run something else.

Host keys are checked against an OpenSSH ``known_hosts`` file before any credential is
sent. ``strict`` refuses a host whose key is not in the file; ``accept-new`` records the
key of a host seen for the first time (OpenSSH's ``StrictHostKeyChecking=accept-new``)
and still refuses a key that changed. There is no "accept any key" policy: a farm's
passwords are usually the factory defaults, and would go to whoever answers.
Nothing from the user's own ``~/.ssh`` (config, keys, agent, known_hosts) is used.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncssh

from collectors.errors import AuthFailed, DeviceUnreachable, ProtocolError
from collectors.transport.rpc import MAX_BYTES, size_text

log = logging.getLogger(__name__)

_CHUNK = 1 << 16


@dataclass(frozen=True)
class KnownHosts:
    """Where trusted host keys live and what to do with a host that is not there."""

    path: Path = Path("/var/lib/minerwatch/known_hosts")
    policy: Literal["strict", "accept-new"] = "strict"

    def __post_init__(self) -> None:
        if self.policy not in ("strict", "accept-new"):
            raise ValueError(f'host key policy must be "strict" or "accept-new", not {self.policy!r}')
        object.__setattr__(self, "path", Path(self.path))


class _HostKeyCheck(asyncssh.SSHClient):
    """Decides on a host key that the known_hosts file does not already trust."""

    def __init__(self, known_hosts: KnownHosts, recorded: bool) -> None:
        self._known_hosts = known_hosts
        self._recorded = recorded  # the file holds keys for this host (so a miss is a change)
        self.refusal: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int,
                                 key: asyncssh.SSHKey) -> bool:
        path = self._known_hosts.path
        if self._recorded:
            self.refusal = (f"host key of {host} has changed since it was recorded in {path}; "
                            "remove the old line there if the controller was replaced")
            return False
        if self._known_hosts.policy == "strict":
            self.refusal = f"host key of {host} is not known; add it to {path}"
            return False
        _record(path, host, port, key)
        log.info("%s: recorded its host key in %s", host, path)
        return True


def _record(path: Path, host: str, port: int, key: asyncssh.SSHKey) -> None:
    name = host if port == 22 else f"[{host}]:{port}"
    algorithm, blob = key.export_public_key("openssh").decode().split()[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as file:  # one short write: appends do not interleave
        file.write(f"{name} {algorithm} {blob}\n")


def _trusted(known_hosts: KnownHosts) -> asyncssh.SSHKnownHosts:
    try:
        text = known_hosts.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise AuthFailed(f"cannot read the known hosts file {known_hosts.path} ({exc.strerror})") from exc
    try:
        return asyncssh.import_known_hosts(text)
    except ValueError as exc:
        raise AuthFailed(f"the known hosts file {known_hosts.path} is not in OpenSSH format") from exc


async def run(host: str, command: str, *, port: int = 22, username: str,
              password: str | None = None, client_keys: list[asyncssh.SSHKey] | None = None,
              known_hosts: KnownHosts, timeout: float = 5.0, max_bytes: int = MAX_BYTES) -> str:
    """Run ``command`` on ``host`` and return its standard output.

    ``timeout`` bounds the whole session: connect, host key check, login and output.
    """
    trusted = _trusted(known_hosts)
    matched = asyncssh.match_known_hosts(trusted, host, host, None if port == 22 else port)
    check = _HostKeyCheck(known_hosts, recorded=bool(matched[0] or matched[1]))
    source = f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            async with asyncssh.connect(
                host, port, username=username, password=password,
                client_keys=client_keys or None, agent_path=None, config=None,
                known_hosts=lambda _h, _a, _p: matched, client_factory=lambda: check,
            ) as conn:
                return await _stdout(conn, command, source, max_bytes)
    except TimeoutError as exc:
        raise DeviceUnreachable(f"no answer on {source} within {timeout:g} s") from exc
    except asyncssh.HostKeyNotVerifiable as exc:
        raise AuthFailed(check.refusal or f"host key of {host} could not be verified") from exc
    except asyncssh.PermissionDenied as exc:
        raise AuthFailed(f"{source} refused the SSH user name or password") from exc
    except asyncssh.ChannelOpenError as exc:
        raise ProtocolError(f"{source} accepted the SSH login but would not run a command") from exc
    except (asyncssh.DisconnectError, ConnectionResetError) as exc:
        raise DeviceUnreachable(f"{source} closed the SSH connection") from exc
    except ConnectionRefusedError as exc:
        raise DeviceUnreachable(f"{source} refused the connection") from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DeviceUnreachable(f"{source} cannot be reached ({reason})") from exc


async def _stdout(conn: asyncssh.SSHClientConnection, command: str, source: str,
                  max_bytes: int) -> str:
    output = bytearray()
    async with conn.create_process(command, encoding=None, stdin=asyncssh.DEVNULL,
                                   stderr=asyncssh.DEVNULL) as process:
        while chunk := await process.stdout.read(_CHUNK):
            output += chunk
            if len(output) > max_bytes:
                raise ProtocolError(f"{source} sent more than {size_text(max_bytes)}")
        result = await process.wait()
    if result.exit_status not in (0, None):
        raise ProtocolError(f"{source} ran the command but it failed (exit status {result.exit_status})")
    return output.decode("utf-8", errors="replace")
