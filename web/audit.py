"""The audit log: every change a person makes through the web or the ``minerwatch user``/``token``
commands, one JSON object per line in ``<state_dir>/web/audit.jsonl``: ``at`` (Unix s), ``who``
(a user, a token, or the command and the system user that ran it), ``what`` ("login",
"login_failed", "logout", "user_added", ...), ``from`` (the client's address, or "cli"), and
``detail`` where there is more to say. Appended, never rewritten; never holds a secret.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import atomicfile
from web.files import SECRET, web_dir


class AuditLog:
    def __init__(self, state_dir: Path) -> None:
        self.path = web_dir(state_dir) / "audit.jsonl"

    def record(self, who: str | None, what: str, where: str | None, **detail: Any) -> None:
        entry = {"at": round(time.time(), 3), "who": who, "what": what, "from": where, **detail}
        atomicfile.make_dirs(self.path.parent)
        # One write() of one line with O_APPEND: lines from the web and a command never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, SECRET)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode())
        finally:
            os.close(fd)

    def tail(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` entries, oldest first; a line that is not JSON (cut by a crash) is left out."""
        try:
            lines = self.path.read_text(errors="replace").splitlines()[-limit:]
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries
