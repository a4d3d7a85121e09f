"""Files replaced whole: a reader (the web, ``minerwatch status``, snmpd's responder) or a crash sees
the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text``. ``durable``: fsync first, for state a restart relies on; a file
    rewritten every cycle from what is in memory (health, the farm served over SNMP) need not be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(temp, 0o644)  # mkstemp's 0600 would keep readers of another user (the web, snmpd) out
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
