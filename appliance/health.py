"""The commander's own health, as data: each job's last run, its duration and outcome, skipped runs,
each alert channel's deliveries, and whether the process still runs.

Kept in memory by the running commander and written atomically to ``health.json`` in the state
directory after every run and once more when it stops, where ``minerwatch status`` and the web read
it (they never talk to the daemon). ``assess`` turns the file into a verdict: the process it names
must be alive and be the one that wrote it (a pid is reused once the commander is gone), and a
commander that has not written for a few poll intervals hangs.

The commander never reads it back, so a damaged one costs nothing: it is replaced after the next
job run. A reader meets it as one sentence (``HealthFileError``), never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
import psutil
from pydantic import with_config

import atomicfile
from appliance.damaged import STRICT, SetAside, parsed, read_state

HEALTH_FILE = "health.json"

# Exit statuses of `minerwatch status`, the monitoring-plugins convention (Nagios, Icinga).
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3


def _process_started_at(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


@with_config(STRICT)
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


@with_config(STRICT)
@dataclass
class ChannelHealth:
    """One alert channel as the dispatcher sees it."""

    delivered: int = 0
    dropped: int = 0  # given up on (attempts exhausted, refused for good, queue overflow)
    pending: int = 0
    failing_since: float | None = None  # Unix time of the first failed attempt since the last delivery
    failed_attempts: int = 0  # since failing_since
    last_error: str | None = None


@dataclass
class Health:
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)
    # The process's own start time: with the pid, it tells this commander from a later process
    # that was given the same pid.
    process_started_at: float | None = field(default_factory=lambda: _process_started_at(os.getpid()))
    host: str = field(default_factory=socket.gethostname)
    role: str = "MASTER"  # the HA role the last run saw
    stopped_at: float | None = None  # set by a clean stop (SIGTERM, SIGINT)
    jobs: dict[str, JobHealth] = field(default_factory=dict)
    channels: dict[str, ChannelHealth] = field(default_factory=dict)

    def save(self, state_dir: Path) -> None:
        """Replace health.json atomically: a reader sees the old file or the new one, never half."""
        atomicfile.replace(state_dir / HEALTH_FILE, json.dumps(asdict(self) | {"written_at": time.time()}, indent=1),
                     durable=False)


@with_config(STRICT)
@dataclass(frozen=True)
class _HealthFile:
    """What ``Health.save`` writes."""

    started_at: float
    pid: int
    written_at: float
    process_started_at: float | None = None
    host: str = ""
    role: str = "MASTER"
    stopped_at: float | None = None
    jobs: dict[str, JobHealth] = field(default_factory=dict)
    channels: dict[str, ChannelHealth] = field(default_factory=dict)


class HealthFileError(Exception):
    """health.json is missing, unreadable or damaged; the message says which and what it means."""


def load(state_dir: Path) -> tuple[Health, float]:
    """The last health the commander wrote, and when it wrote it."""
    data = read_state(state_dir / HEALTH_FILE, functools.partial(parsed, _HealthFile), HealthFileError,
                      missing="the commander has not run with this state directory",
                      then="the commander rewrites it after every job run")
    health = Health(started_at=data.started_at, pid=data.pid, process_started_at=data.process_started_at,
                    host=data.host, role=data.role, stopped_at=data.stopped_at, jobs=data.jobs,
                    channels=data.channels)
    return health, data.written_at


@dataclass(frozen=True)
class Verdict:
    status: int  # OK, WARNING, CRITICAL
    headline: str  # "commander running, pid 123, ..." or what is wrong with it
    running: bool  # the commander runs and its poll job is on time
    warnings: tuple[str, ...] = ()  # what fails while it runs: one sentence each


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def alive(health: Health) -> bool | None:
    """Whether the process that wrote ``health`` still runs; None when that cannot be told from
    here (the file was written on another host)."""
    if health.host and health.host != socket.gethostname():
        return None
    started = _process_started_at(health.pid)
    if started is None:
        return False
    # Without its own start time on record (a file from an older commander) the pid has to do.
    return health.process_started_at is None or abs(started - health.process_started_at) < 0.01


def assess(health: Health, written_at: float, now: float, set_aside: Sequence[SetAside] = ()) -> Verdict:
    """What ``minerwatch status`` says and exits with: CRITICAL when the commander is stopped, gone
    or hung; WARNING when it runs but something fails (a job, a channel, a file set aside); else OK."""
    since = f"up since {_when(health.started_at)}"
    if health.stopped_at is not None:
        return Verdict(CRITICAL, f"commander STOPPED: it stopped cleanly at {_when(health.stopped_at)}", False)
    if alive(health) is False:
        return Verdict(CRITICAL, f"commander NOT RUNNING: its process {health.pid} is gone without stopping "
                                 f"cleanly (killed or crashed; last wrote {_when(written_at)})", False)
    poll = health.jobs.get("poll")
    age = now - written_at
    if poll is not None and age > 3 * poll.interval_s + 10:
        return Verdict(CRITICAL, f"commander NOT POLLING: process {health.pid} has written nothing for "
                                 f"{age:.0f} s (it polls every {poll.interval_s:g} s); it hangs or is stopped", False)
    warnings = [f"job {name} failed its last run: {job.last_error}" for name, job in health.jobs.items()
                if job.last_error]
    for name, channel in health.channels.items():
        if channel.failing_since is not None:
            warnings.append(f"alert channel {name} failing since {_when(channel.failing_since)}: "
                            f"{channel.failed_attempts} failed attempt(s), {channel.pending} message(s) waiting; "
                            f"last: {channel.last_error}")
    warnings += [f"damaged file set aside {when:%Y-%m-%d %H:%M} UTC: {path} (was {original.name})"
                 for path, original, when in ((f.path, f.original, f.at) for f in set_aside)]
    headline = f"commander running, pid {health.pid}, role {health.role}, {since}"
    return Verdict(WARNING if warnings else OK, headline, True, tuple(warnings))
