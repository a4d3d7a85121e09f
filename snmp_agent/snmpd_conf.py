"""A block of snmpd.conf lines that hands part of MINERWATCH-MIB to a responder, and its idempotent install.

Each block is delimited by two marker comments carrying its tag (``minerwatch-sentry``,
``minerwatch-commander``), so several can live in one snmpd.conf without touching each other.
``install`` replaces its block where it is, or appends it, and leaves every other line of the file
as it was; it writes only when the block changes, keeps the previous file as
``<file>.<tag>.bak``, and replaces the file atomically with the same mode and owner, so snmpd never
reads half a file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import atomicfile
from collectors.mib import BASE, Oid, dotted, parse

DEFAULT_FILE = Path("/etc/snmp/snmpd.conf")


class ConfError(Exception):
    """One sentence naming the file or the argument."""


@dataclass(frozen=True)
class Markers:
    """A block's two marker lines: ``tag`` tells the blocks apart, ``command`` is what installs it."""

    tag: str
    command: str

    @property
    def begin(self) -> str:
        return f"# BEGIN {self.tag} (managed by `{self.command} --install`; edits here are replaced)"

    @property
    def end(self) -> str:
        return f"# END {self.tag}"

    def is_begin(self, line: str) -> bool:
        # By the tag alone, so a block written by a version that words the rest otherwise is still found.
        return line == f"# BEGIN {self.tag}" or line.startswith(f"# BEGIN {self.tag} ")


def base_option(base: Oid) -> str:
    """The responder's ``--base`` option, when the base is not the MIB's own."""
    return "" if base == BASE else f" --base {dotted(base)}"


def check_path(path: Path, what: str) -> None:
    """snmpd splits the pass_persist command on blanks: a path with one cannot be passed."""
    if any(char.isspace() for char in str(path)):
        raise ConfError(f"the {what} path {str(path)!r} contains a blank, and snmpd splits "
                        "the pass_persist command on blanks")


def block(markers: Markers, subtree: Oid, command: str, served: str, reader: str) -> str:
    """The marked block: the pass_persist line for ``subtree``, and the access choices as comments.

    ``served`` says in a comment what the responder serves; ``reader`` is who polls it (the access
    lines grant it read access)."""
    # snmpd takes the rest of the line as the command, up to a '#' or ';', and splits it on blanks.
    if any(char in command for char in "#;\n"):
        raise ConfError(f"the responder command {command!r} contains '#', ';' or a newline, "
                        "which snmpd.conf cannot carry")
    oid = "." + dotted(subtree)
    return "\n".join((
        markers.begin,
        f"# {served}",
        f"pass_persist {oid} {command}",
        "#",
        f"# snmpd's own access control applies; grant the {reader} read access to the subtree,",
        f"# and check that agentaddress listens where the {reader} can reach it (Debian: localhost only).",
        "# SNMPv3 authPriv (recommended):",
        f"#   view   minerwatch included {oid}",
        "#   rouser minerwatch priv -V minerwatch",
        "# and the user, snmpd stopped, in /var/lib/snmp/snmpd.conf (snmpd hashes it at start):",
        '#   createUser minerwatch SHA "auth passphrase" AES "privacy passphrase"',
        f"# or SNMPv2c, read-only, from the {reader} only:",
        f"#   rocommunity COMMUNITY {reader.upper()}-IP {oid}",
        markers.end,
    )) + "\n"


@dataclass(frozen=True)
class Installed:
    path: Path
    changed: bool
    backup: Path | None


def merge(existing: str, new_block: str, path: Path, markers: Markers) -> str:
    """``existing`` with its block of ``markers`` replaced by ``new_block``, or with it appended."""
    lines = existing.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if markers.is_begin(line.rstrip("\n"))]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\n") == markers.end]
    if not begins and not ends:
        if not existing:
            return new_block
        return existing + ("" if existing.endswith("\n") else "\n") + "\n" + new_block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ConfError(f"{path} has {len(begins)} BEGIN and {len(ends)} END {markers.tag} markers "
                        "out of order; fix the file by hand, then install again")
    return "".join(lines[:begins[0]]) + new_block + "".join(lines[ends[0] + 1:])


def install(path: Path, new_block: str, markers: Markers) -> Installed:
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfError(f"{path} cannot be read: {exc}") from exc
    merged = merge(existing, new_block, path, markers)
    if merged == existing:
        return Installed(path, changed=False, backup=None)
    backup = None
    try:
        if path.exists():
            backup = path.with_name(f"{path.name}.{markers.tag}.bak")
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
    atomicfile.replace(path, text, mode=mode, owner=owner)


# -- the snmpd-conf command, as each package's CLI offers it ---------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--base, --install and --file; the package adds the option naming its file."""
    parser.add_argument("--base", type=parse, default=BASE, metavar="OID",
                        help=f"MINERWATCH-MIB's base OID (default {dotted(BASE)})")
    parser.add_argument("--install", action="store_true",
                        help="write the block into --file (a backup is kept; nothing is written if it is current)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, metavar="FILE",
                        help=f"the snmpd.conf to install into (default {DEFAULT_FILE})")


def print_or_install(make_block: Callable[[], str], args: argparse.Namespace, markers: Markers,
                     program: str) -> int:
    """Print the block, or with ``--install`` put it into ``--file``; a ConfError is one line on stderr."""
    try:
        text = make_block()
        if not args.install:
            sys.stdout.write(text)
            return 0
        result = install(args.file, text, markers)
    except ConfError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 1
    if not result.changed:
        print(f"{result.path} already serves MINERWATCH-MIB as asked; nothing written.")
    else:
        kept = f" (the previous file is {result.backup})" if result.backup else ""
        print(f"{result.path} updated{kept}; restart snmpd to apply it (systemctl restart snmpd).")
    return 0
