"""The commander's side of its ASIC sentries ([[asic_sentries]]): pull each sentry's cycles after
a cursor, over mutual TLS with the commander's certificate (``minerwatch pki``), the sentry's own
certificate pinned by its fingerprint, and hand them over in order.

The cursor of each sentry (its buffer's id and the last sequence number ingested) is the
commander's file ``<state_dir>/asic-sentries.json``, saved after a batch is ingested: a crash in
between ingests that batch again, which the store files under the same names (once) and the
alerts judge at the same times. A sentry whose buffer id changed (wiped, rebuilt) is read from its
start. A sentry is the unit of failure: a refused connection, a wrong certificate, an answer over
its size or that is not an Arrow stream costs that sentry's pull, in one sentence, never the others'.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import pyarrow as pa
from pydantic import TypeAdapter, with_config

import atomicfile
from appliance.config import AsicSentryLink
from appliance.damaged import STRICT, Damaged, parsed, set_aside
from appliance.pki import pki_dir
from asic_sentry.api import BUFFER_HEADER, MAX_PULL_BYTES
from asic_sentry.buffer import BadCycle, cycle_lines
from collectors.model import MinerSnapshot

log = logging.getLogger(__name__)

CURSORS_FILE = "asic-sentries.json"
TIMEOUT_S = 20.0
MAX_ANSWER_BYTES = MAX_PULL_BYTES + 1024 * 1024  # the sentry's largest batch, and the Arrow framing
MAX_BACKLOG_S = 8 * 86400.0  # longer than a sentry's buffer holds by default: rollups wait no longer
CATCH_UP_S = 20.0
# A backlog is judged one cycle per this many seconds of its samples, and always at its newest: the
# rules' holds are minutes, and judging each of an hour's 120 cycles of 5,000 miners would take
# longer than the hour's samples take to store. A batch of a few cycles (a pull that came late) is
# judged whole.
JUDGE_BACKLOG_S = 120.0
WHOLE_BATCH = 4  # one job run pulls batch after batch for this long, then the next run goes on
_SNAPSHOTS = TypeAdapter(list[MinerSnapshot])


class PullError(Exception):
    """A pull that failed; the message says why, naming the sentry."""


@with_config(STRICT)
@dataclass
class Cursor:
    buffer: str | None = None  # the sentry's buffer id the sequence numbers belong to
    seq: int = 0  # the last cycle ingested
    polled_at: float | None = None  # Unix s, that cycle's poll
    pulled_at: float | None = None  # Unix s, the last pull that succeeded
    behind: int | None = None  # cycles the sentry held beyond the cursor at that pull
    error: str | None = None  # why the last pull failed; None when it succeeded
    failing_since: float | None = None
    newest_polled_at: float | None = None  # Unix s, the sentry's newest cycle at the last pull
    buffer_bytes: int | None = None  # the sentry's buffer, as it said at the last pull
    buffer_max_bytes: int | None = None


@dataclass(frozen=True)
class Cycle:
    seq: int
    polled_at: float
    snapshots: list[MinerSnapshot]


def to_judge(cycles: list[Cycle]) -> list[Cycle]:
    """The cycles of a batch the alerts judge (``JUDGE_BACKLOG_S``)."""
    if len(cycles) <= WHOLE_BATCH:
        return cycles
    kept = [cycles[0]]
    for cycle in cycles[1:-1]:
        if cycle.polled_at - kept[-1].polled_at >= JUDGE_BACKLOG_S:
            kept.append(cycle)
    return [*kept, cycles[-1]]


def client_context(state_dir: Path) -> ssl.SSLContext:
    """The commander's side of the mutual TLS: the farm's CA, and the commander's certificate."""
    directory = pki_dir(state_dir)
    context = ssl.create_default_context(cafile=directory / "ca.crt")
    context.load_cert_chain(directory / "issued" / "commander.crt", directory / "issued" / "commander.key")
    return context


def load_cursors(state_dir: Path) -> dict[str, Cursor]:
    path = Path(state_dir) / CURSORS_FILE
    try:
        return parsed(dict[str, Cursor], path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, Damaged) as exc:
        # Without cursors every sentry is read from the start of its buffer: cycles already stored
        # are stored again under the same names (once), and only their alerts are judged again.
        if isinstance(exc, Damaged):
            set_aside(path, str(exc), then="reading every ASIC sentry's buffer from its start")
        return {}


def save_cursors(state_dir: Path, cursors: dict[str, Cursor]) -> None:
    atomicfile.replace(Path(state_dir) / CURSORS_FILE, json.dumps({n: asdict(c) for n, c in cursors.items()}))


async def pull(client: httpx.AsyncClient, link: AsicSentryLink, cursor: Cursor) -> tuple[str, list[Cycle]]:
    """The cycles after ``cursor`` (from the start of a buffer the cursor does not know), oldest
    first, and the buffer's id; PullError in one sentence."""
    after = cursor.seq if cursor.buffer is not None else 0
    try:
        async with client.stream("GET", f"{link.url}/v1/cycles", params={"after": after}) as answer:
            _check_pin(answer, link)
            if answer.status_code != 200:
                raise PullError(f"ASIC sentry {link.name} answered HTTP {answer.status_code}")
            buffer_id = answer.headers.get(BUFFER_HEADER, "")
            if cursor.buffer is not None and buffer_id != cursor.buffer:
                log.warning("ASIC sentry %s has a new buffer (%s, was %s): reading it from its start",
                            link.name, buffer_id, cursor.buffer)
                cursor.buffer, cursor.seq = None, 0
                return buffer_id, []
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise PullError(f"ASIC sentry {link.name} sent more than {MAX_ANSWER_BYTES:,} bytes")
    except httpx.HTTPError as exc:
        raise PullError(f"ASIC sentry {link.name} at {link.url} cannot be reached ({_reason(exc)})") from exc
    try:
        table = pa.ipc.open_stream(bytes(body)).read_all()
        rows = zip(table["seq"].to_pylist(), table["polled_at"].to_pylist(), table["cycle"].to_pylist())
    except (pa.ArrowException, KeyError, OSError) as exc:
        raise PullError(f"ASIC sentry {link.name} sent an answer that is not its cycles ({exc})") from exc
    cycles = []
    for seq, polled_at, data in rows:
        try:
            # pydantic parses and checks the JSON in one pass: a third of json.loads + validate_python.
            snapshots = _SNAPSHOTS.validate_json(b"[" + b",".join(cycle_lines(data).splitlines()) + b"]")
        except (BadCycle, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("ASIC sentry %s: cycle %s is left out: %s", link.name, seq, str(exc).splitlines()[0])
            continue
        cycles.append(Cycle(seq, polled_at, snapshots))
    return buffer_id, cycles


async def _sentry_status(client: httpx.AsyncClient, link: AsicSentryLink, cursor: Cursor) -> None:
    """How far behind the commander is, and how full the sentry's buffer: for ``minerwatch status``."""
    try:
        answer = await client.get(f"{link.url}/v1/status")
        _check_pin(answer, link)
        buffer = answer.json()["buffer"]
        cursor.behind = max(0, int(buffer["newest_seq"] or 0) - cursor.seq)
        cursor.newest_polled_at = buffer["newest_polled_at"]
        cursor.buffer_bytes, cursor.buffer_max_bytes = int(buffer["bytes"]), int(buffer["max_bytes"])
    except (httpx.HTTPError, PullError, ValueError, KeyError, TypeError) as exc:
        log.debug("ASIC sentry %s: no status (%s)", link.name, exc)


def _check_pin(answer: httpx.Response, link: AsicSentryLink) -> None:
    from cryptography import x509

    from appliance.pki import fingerprint

    stream = answer.extensions.get("network_stream")
    tls = stream.get_extra_info("ssl_object") if stream is not None else None
    der = tls.getpeercert(binary_form=True) if tls is not None else None
    seen = fingerprint(x509.load_der_x509_certificate(der)) if der else "none"
    if seen != link.fingerprint:
        raise PullError(f"ASIC sentry {link.name} at {link.url} showed the certificate {seen}, not the pinned "
                        f"{link.fingerprint}: nothing is read from it")


def _reason(exc: httpx.HTTPError) -> str:
    cause = exc.__cause__ or exc.__context__
    return str(cause or exc) or type(exc).__name__


async def pull_all(links: list[AsicSentryLink], cursors: dict[str, Cursor], context: ssl.SSLContext,
                   ingest, started: float) -> dict[str, bool]:
    """Pull every sentry at once; ``ingest(link, cycles)`` (awaited, one sentry at a time) stores a
    batch before its cursor moves. Returns whether each sentry was reached."""
    lock = asyncio.Lock()

    async def one(link: AsicSentryLink) -> bool:
        cursor = cursors.setdefault(link.name, Cursor())
        async with httpx.AsyncClient(verify=context, timeout=TIMEOUT_S) as client:
            while True:
                try:
                    buffer_id, cycles = await pull(client, link, cursor)
                except PullError as exc:
                    if cursor.error is None:
                        log.warning("%s", exc)
                        cursor.failing_since = time.time()
                    cursor.error = str(exc)
                    return False
                if cursor.error is not None:
                    log.info("ASIC sentry %s reached again", link.name)
                cursor.error, cursor.failing_since, cursor.pulled_at = None, None, time.time()
                if cursor.buffer is None and not cycles:
                    cursor.buffer = buffer_id
                    if not buffer_id:
                        return True
                    continue  # a new buffer: read it from its start
                if not cycles:
                    await _sentry_status(client, link, cursor)
                    return True
                async with lock:
                    await ingest(link, cycles)
                cursor.buffer, cursor.seq, cursor.polled_at = buffer_id, cycles[-1].seq, cycles[-1].polled_at
                if time.time() - started > CATCH_UP_S:  # the next run goes on from here
                    await _sentry_status(client, link, cursor)
                    return True

    reached = await asyncio.gather(*(one(link) for link in links))
    return dict(zip((link.name for link in links), reached))
