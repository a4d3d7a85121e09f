"""What a person changes through the web for the commander to apply: acknowledging or silencing
an alert, a miner's place and tags, discovered addresses to add. The web never writes the
commander's files (DESIGN, "The web and the commander"); it appends the change, one JSON object per
line, to ``<state_dir>/web/changes.jsonl``, fsync'd before the page answers, and the commander
applies each line once on its next cycle (``appliance.intake``), recording the outcome in its own
``<state_dir>/intake.json``. So nothing a person did is lost when either process restarts.

A line: ``{"id", "at", "by", "from", "kind", ...}`` and the fields of its kind (``appliance.intake``
holds the kinds and what each needs). Every change is also in the audit log.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from appliance.intake import CHANGES_FILE, KINDS, outcomes
from web.audit import AuditLog
from web.files import SECRET, make_web_dir


class Changes:
    def __init__(self, state_dir: Path, audit: AuditLog) -> None:
        self.state_dir, self.audit = Path(state_dir), audit
        self.path = Path(state_dir) / CHANGES_FILE
        self._lock = threading.Lock()  # the server serves from threads; one line is one write

    def record(self, by: str, address: str | None, kind: str, **fields: Any) -> str:
        """Append one change for the commander; returns its id (to follow with ``outcome``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown change kind {kind!r}")
        change = {"id": secrets.token_hex(8), "at": round(time.time(), 3), "by": by, "from": address,
                  "kind": kind, **fields}
        line = (json.dumps(change) + "\n").encode()
        make_web_dir(self.state_dir)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, SECRET)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        self.audit.record(by, kind, address, change=change["id"], **fields)
        return change["id"]

    def outcome(self, change_id: str) -> dict[str, Any] | None:
        """What the commander made of a change (``{"outcome": "applied"|"refused", "why", "at"}``);
        None while it has not applied it yet."""
        return outcomes(self.state_dir).get(change_id)
