"""The snmpd.conf lines that hand MINERWATCH-MIB to the responder, and their idempotent install.

The block is delimited by two marker comments. ``install`` replaces the block where it is, or
appends it, and leaves every other line of the file as it was; it writes only when the block
changes, keeps the previous file as ``<file>.minerwatch-sentry.bak``, and replaces the file
atomically with the same mode and owner, so snmpd never reads half a file.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from collectors.mib import BASE, Oid, dotted

BEGIN = "# BEGIN minerwatch-sentry (managed by `minerwatch-sentry snmpd-conf --install`; edits here are replaced)"
END = "# END minerwatch-sentry"
DEFAULT_FILE = Path("/etc/snmp/snmpd.conf")


class ConfError(Exception):
    """One sentence naming the file or the argument."""


def responder_command(snapshot: Path, base: Oid = BASE) -> str:
    """How snmpd starts the responder: the installed ``minerwatch-sentry`` beside this Python,
    else this Python with ``-m`` (a checkout, a virtual environment without the script)."""
    script = Path(sys.executable).with_name("minerwatch-sentry")
    program = f"{script} pass-persist" if script.exists() else f"{sys.executable} -m sentry_light.snmp.pass_persist"
    extra = "" if base == BASE else f" --base {dotted(base)}"
    return f"{program} --snapshot {snapshot}{extra}"


def block(snapshot: Path, base: Oid = BASE, command: str | None = None) -> str:
    """The marked block: the pass_persist line, and the access choices as comments."""
    if any(char.isspace() for char in str(snapshot)):
        raise ConfError(f"the snapshot path {str(snapshot)!r} contains a blank, and snmpd splits "
                        "the pass_persist command on blanks")
    command = command or responder_command(snapshot, base)
    # snmpd takes the rest of the line as the command, up to a '#' or ';', and splits it on blanks.
    if any(char in command for char in "#;\n"):
        raise ConfError(f"the responder command {command!r} contains '#', ';' or a newline, "
                        "which snmpd.conf cannot carry")
    oid = "." + dotted(base)
    return "\n".join((
        BEGIN,
        "# MINERWATCH-MIB, served from the sentry's snapshot by its pass_persist responder.",
        f"pass_persist {oid} {command}",
        "#",
        "# snmpd's own access control applies; grant the commander read access to the subtree,",
        "# and check that agentaddress listens where the commander can reach it (Debian: localhost only).",
        "# SNMPv3 authPriv (recommended):",
        f"#   view   minerwatch included {oid}",
        "#   rouser minerwatch priv -V minerwatch",
        "# and the user, snmpd stopped, in /var/lib/snmp/snmpd.conf (snmpd hashes it at start):",
        '#   createUser minerwatch SHA "auth passphrase" AES "privacy passphrase"',
        "# or SNMPv2c, read-only, from the commander only:",
        f"#   rocommunity COMMUNITY COMMANDER-IP {oid}",
        END,
    )) + "\n"


@dataclass(frozen=True)
class Installed:
    path: Path
    changed: bool
    backup: Path | None


def merge(existing: str, new_block: str, path: Path) -> str:
    """``existing`` with its marked block replaced by ``new_block``, or with it appended."""
    lines = existing.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.rstrip("\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\n") == END]
    if not begins and not ends:
        if not existing:
            return new_block
        return existing + ("" if existing.endswith("\n") else "\n") + "\n" + new_block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ConfError(f"{path} has {len(begins)} BEGIN and {len(ends)} END minerwatch-sentry markers "
                        "out of order; fix the file by hand, then install again")
    return "".join(lines[:begins[0]]) + new_block + "".join(lines[ends[0] + 1:])


def install(path: Path, new_block: str) -> Installed:
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfError(f"{path} cannot be read: {exc}") from exc
    merged = merge(existing, new_block, path)
    if merged == existing:
        return Installed(path, changed=False, backup=None)
    backup = None
    try:
        if path.exists():
            backup = path.with_name(path.name + ".minerwatch-sentry.bak")
            shutil.copy2(path, backup)
        _write_atomically(path, merged)
    except OSError as exc:
        raise ConfError(f"{path} cannot be written: {exc}") from exc
    return Installed(path, changed=True, backup=backup)


def _write_atomically(path: Path, text: str) -> None:
    mode, owner = 0o600, None  # snmpd.conf may hold community strings
    if path.exists():
        info = path.stat()
        mode, owner = info.st_mode & 0o7777, (info.st_uid, info.st_gid)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(temporary, *owner)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
