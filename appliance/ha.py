"""This commander's role in a keepalived pair: only the MASTER notifies and acts.

keepalived runs its ``notify`` script on every state change with the arguments
``TYPE NAME STATE PRIORITY``; the script writes STATE, one word and a newline, to the role file
by rename, so a reader never sees half a word:

    vrrp_instance minerwatch {
        ...
        notify "/usr/lib/minerwatch/ha-notify"
    }

    #!/bin/sh
    # /usr/lib/minerwatch/ha-notify TYPE NAME STATE PRIORITY
    printf '%s\\n' "$3" > /run/minerwatch/ha-role.tmp && mv /run/minerwatch/ha-role.tmp /run/minerwatch/ha-role

STATE is MASTER, BACKUP, FAULT or STOP; STOP (keepalived shut down here, the peer holds the address)
reads as BACKUP. No file means no keepalived: a single commander, the MASTER.

A file that cannot be read, or holds anything else, also reads as MASTER, with one log line: a
broken file is most likely on a commander whose keepalived is broken too, and between a pair that
sends an alert twice and a farm whose overheating miners nobody hears about, the first is the
harmless mistake.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Role = Literal["MASTER", "BACKUP", "FAULT"]
_WORDS: dict[str, Role] = {"MASTER": "MASTER", "BACKUP": "BACKUP", "FAULT": "FAULT", "STOP": "BACKUP"}
_MAX_BYTES = 64  # one word; anything longer is not what the notify script writes

_last_problem: dict[Path, str] = {}  # the problem last logged per file, so each is logged once


def role(state_path: Path) -> Role:
    path = Path(state_path)
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        _last_problem.pop(path, None)
        return "MASTER"
    except OSError as exc:
        return _broken(path, f"cannot be read ({exc.strerror or exc})")
    word = raw.decode("ascii", "replace").strip().upper()
    if len(raw) > _MAX_BYTES or word not in _WORDS:
        return _broken(path, f"holds {raw[:20]!r}, not MASTER, BACKUP, FAULT or STOP")
    if _last_problem.pop(path, None):
        log.warning("%s: the HA role file reads %s again", path, word)
    return _WORDS[word]


def nms_role(state_path: Path) -> str:
    """The role as MINERWATCH-MIB's mwFarmHaRole names it: ``standalone`` without keepalived."""
    return role(state_path).lower() if Path(state_path).exists() else "standalone"


def _broken(path: Path, problem: str) -> Role:
    if _last_problem.get(path) != problem:
        _last_problem[path] = problem
        log.error("%s: the HA role file %s; acting as MASTER so alerts still go out", path, problem)
    return "MASTER"
