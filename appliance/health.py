"""The commander's own health, as data: each job's last run, its duration and outcome, skipped runs.

Kept in memory by the running commander and written atomically to ``health.json`` in the state
directory after every run, where ``minerwatch status`` and the web read it (they never talk to the
daemon). A reader treats a file older than a few intervals as a commander that has stopped.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from appliance.atomic import write_atomic

HEALTH_FILE = "health.json"


@dataclass
class JobHealth:
    interval_s: float
    runs: int = 0
    skipped: int = 0  # runs that came due while the previous one still ran: counted, not stacked
    failures: int = 0  # runs that ended in an exception (logged once each with the traceback)
    last_started_at: float | None = None  # Unix time
    last_duration_s: float | None = None
    devices_ok: int | None = None
    devices_failed: int | None = None
    last_error: str | None = None


@dataclass
class Health:
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)
    role: str = "MASTER"  # the HA role the last run saw
    jobs: dict[str, JobHealth] = field(default_factory=dict)

    def save(self, state_dir: Path) -> None:
        """Replace health.json atomically: a reader sees the old file or the new one, never half."""
        write_atomic(state_dir / HEALTH_FILE, json.dumps(asdict(self) | {"written_at": time.time()}, indent=1),
                     durable=False)


class HealthFileError(Exception):
    """health.json is missing or unreadable; the message says which and what it means."""


def load(state_dir: Path) -> tuple[Health, float]:
    """The last health the commander wrote, and when it wrote it."""
    path = state_dir / HEALTH_FILE
    try:
        data = json.loads(path.read_text())
        jobs = {name: JobHealth(**job) for name, job in data.get("jobs", {}).items()}
        health = Health(started_at=data["started_at"], pid=data["pid"], role=data.get("role", "MASTER"),
                        jobs=jobs)
        return health, float(data["written_at"])
    except FileNotFoundError as exc:
        raise HealthFileError(f"{path} does not exist: the commander has not run with this state directory") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HealthFileError(f"{path} cannot be read ({exc}); the commander rewrites it every cycle") from exc
