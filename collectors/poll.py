"""One poll of one miner: fetch every endpoint its driver names, once, then map the replies.

All RPC commands of a driver go out as one cgminer multi-command (the transport falls back per
command where a firmware refuses it); HTTP, 4433 and SSH endpoints are fetched concurrently beside it.
Everything runs under one deadline per miner, so a miner that hangs costs its own timeout and
nobody else's. A failed poll is a snapshot with ``reachable: false`` and one sentence in ``error``.

The device is the unit of failure: ``Poller.poll`` never raises for a device's sake (only
cancellation passes). An exception no transport or driver meant to raise (an ``OverflowError``
from a value, a ``NotImplementedError`` from a login scheme a device asked for) becomes that
device's ``error``, one sentence naming driver, device and endpoint; its traceback is logged once
each time that device's failure changes, not on every poll.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from collectors.asic.driver import Btminer, Driver, Endpoint, Http, Rpc, Ssh
from collectors.credentials import Credentials
from collectors.errors import AuthFailed, CollectorError, DeviceUnreachable, ProtocolError
from collectors.model import MinerSnapshot, unreachable
from collectors.transport import btminer, rpc, ssh
from collectors.transport.http import HttpClient

log = logging.getLogger(__name__)


@dataclass
class PollSettings:
    timeout_s: float = 3.0  # per miner, everything included
    concurrency: int = 200  # miners in flight at once
    web_port: int = 80
    credentials: Credentials = field(default_factory=Credentials)
    known_hosts: ssh.KnownHosts = field(default_factory=ssh.KnownHosts)


WEB = 80  # a driver's port 80 stands for the farm's web port (``PollSettings.web_port``)


def api_port(driver: Driver, web_port: int) -> int:
    """Where a driver's main API listens unless told: its own port; the farm's web port for a web firmware."""
    return web_port if driver.port == WEB else driver.port


def surprise(who: str, ip: str, what: str, exc: BaseException) -> str:
    """The sentence for an exception nobody meant to raise: "driver antminer could not read
    10.0.3.9's stats: OverflowError (int too large to convert to float)"."""
    detail = " ".join(str(exc).split())
    detail = f" ({detail[:120]}{'...' if len(detail) > 120 else ''})" if detail else ""
    return f"{who} could not read {ip}'s {what}: {type(exc).__name__}{detail}"


def refusals(driver: Driver, failures: Mapping[str, CollectorError], snapshot: MinerSnapshot) -> list[str]:
    """A sentence per login the device refused (the poll went on without those endpoints), with
    the fields left unknown for want of them."""
    refused: dict[str, list[str]] = {}
    for name, error in failures.items():
        if isinstance(error, AuthFailed):
            refused.setdefault(str(error), []).append(name)
    sentences = []
    for sentence, endpoints in refused.items():
        unknown = list(dict.fromkeys(row.key for row in driver.fields
                                     if row.endpoint in endpoints and getattr(snapshot, row.key) is None))
        if len(unknown) > 1:
            sentences.append(f"{sentence}: {', '.join(unknown[:-1])} and {unknown[-1]} are unknown")
        elif unknown:
            sentences.append(f"{sentence}: {unknown[0]} is unknown")
        else:
            sentences.append(f"{sentence}: its {' and '.join(endpoints)} went unread")
    return sentences


class Failures:
    """The surprises (exceptions nobody meant to raise) of each device's last poll and last
    identification, so that a traceback is logged when a device's failure changes, not on every
    poll of a device that stays broken. One entry per device failing now; a recovered one leaves."""

    def __init__(self) -> None:
        self._now: dict[tuple[str, str], tuple[str, ...]] = {}

    def update(self, ip: str, stage: str, surprises: list[tuple[str, BaseException]]) -> None:
        """What the last ``stage`` ("poll", "identify") of ``ip`` raised by surprise: (sentence, exception)."""
        sentences = tuple(sentence for sentence, _ in surprises)
        before = self._now.pop((ip, stage), ())
        if sentences:
            self._now[ip, stage] = sentences
            for sentence, exc in surprises:
                if sentence not in before:
                    log.error("%s", sentence, exc_info=exc)
        elif before:
            log.info("%s: %s works again", ip, stage)


class Poller:
    """The shared clients of one poll job (HTTP connection pool, RPC multi-command memory)."""

    def __init__(self, settings: PollSettings | None = None) -> None:
        self.settings = settings or PollSettings()
        self.rpc = rpc.RpcClient()
        self.http = HttpClient(timeout=self.settings.timeout_s)
        self.slots = asyncio.Semaphore(self.settings.concurrency)  # miners in flight, shared by all jobs
        self.failures = Failures()

    async def __aenter__(self) -> Poller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def poll(self, ip: str, driver: Driver, port: int | None = None,
                   identity: Mapping[str, Any] | None = None
                   ) -> tuple[MinerSnapshot, Mapping[str, Any] | None]:
        """Poll one miner with a known driver.

        ``identity`` is what an earlier poll of the same device returned for the driver's identity
        endpoints (model, MAC, serial); those it lacks (all, with None) are fetched too. Returns the
        snapshot and the identity to pass to the next poll: None again when this poll failed, so the
        next one asks for it once more. An identity endpoint that failed (a login refused) is asked
        again on every poll, so the snapshot's ``warnings`` say so as long as it lasts.
        """
        port = api_port(driver, self.settings.web_port) if port is None else port
        surprises: list[tuple[str, BaseException]] = []
        async with self.slots:
            started, clock = time.time(), time.perf_counter()
            wanted = driver.endpoints + tuple(e for e in driver.identity if identity is None or e.name not in identity)
            try:
                async with asyncio.timeout(self.settings.timeout_s):
                    replies, failures = await self._fetch(ip, port, driver, wanted, surprises)
            except TimeoutError:
                replies, failures = {}, {"*": DeviceUnreachable(
                    f"no answer on {ip}:{port} within {self.settings.timeout_s:g} s")}
            latency_ms = round((time.perf_counter() - clock) * 1000, 1)
        missing = [name for name in driver.required if name not in replies] or (
            [] if replies else ["*"])
        if missing:
            error = failures.get(missing[0]) or next(iter(failures.values()), None)
            sentence = str(error) if error else f"{ip}:{port} did not answer {missing[0]}"
            self.failures.update(ip, "poll", surprises)
            return unreachable(ip, port, sentence, polled_at=started, latency_ms=latency_ms), identity
        known = dict(identity or {})
        known.update({e.name: replies[e.name] for e in driver.identity if e.name in replies})
        try:
            snapshot = driver.parse({**known, **replies}, ip, port)
        except Exception as exc:  # the device's boundary: a driver's bug spoils this snapshot only
            sentence = surprise(f"driver {driver.name}", ip, ", ".join(replies), exc)
            surprises.append((sentence, exc))
            snapshot, known = unreachable(ip, port, sentence), identity
        self.failures.update(ip, "poll", surprises)
        if snapshot.reachable:
            snapshot.warnings = refusals(driver, failures, snapshot)
        snapshot.polled_at, snapshot.latency_ms = started, latency_ms
        return snapshot, known

    async def _fetch(self, ip: str, port: int, driver: Driver, endpoints: tuple[Endpoint, ...],
                     surprises: list[tuple[str, BaseException]]
                     ) -> tuple[dict[str, Any], dict[str, CollectorError]]:
        """Every endpoint's reply, or why it failed. An endpoint on the driver's main API is asked on
        ``port`` (a miner given as ``IP:PORT``); the others on their own ports."""
        batched = [e.command for e in endpoints if isinstance(e, Rpc) and e.parameter is None]
        jobs: dict[str, Any] = {}
        if batched:
            jobs["rpc"] = self.rpc.multi(ip, port, batched, timeout=self.settings.timeout_s,
                                         extra=driver.rpc_extra)
        for endpoint in endpoints:
            if isinstance(endpoint, Rpc) and endpoint.parameter is not None:
                jobs[endpoint.name] = rpc.command(ip, port, endpoint.command, endpoint.parameter,
                                                  timeout=self.settings.timeout_s, extra=driver.rpc_extra)
            elif isinstance(endpoint, Http):
                at = port if (endpoint.port or WEB) == driver.port else endpoint.port or self.settings.web_port
                jobs[endpoint.name] = self.http.fetch(ip, at, endpoint, driver=driver.name,
                                                      credentials=self.settings.credentials)
            elif isinstance(endpoint, Btminer):
                at = port if driver.port == btminer.DEFAULT_PORT else btminer.DEFAULT_PORT
                jobs[endpoint.name] = btminer.command(ip, at, endpoint.command, endpoint.parameter,
                                                      timeout=self.settings.timeout_s)
            elif isinstance(endpoint, Ssh):
                credential = self.settings.credentials.for_driver(driver.name, ip)
                jobs[endpoint.name] = ssh.run(ip, endpoint.command, known_hosts=self.settings.known_hosts,
                                              username=credential.username if credential else "root",
                                              password=credential.password if credential else None,
                                              timeout=self.settings.timeout_s)
        results = await asyncio.gather(*jobs.values(), return_exceptions=True)
        replies: dict[str, Any] = {}
        failures: dict[str, CollectorError] = {}
        for name, result in zip(jobs, results):
            if isinstance(result, Exception) and not isinstance(result, CollectorError):
                # Raised by no design (a reply or a login scheme no transport foresaw): this
                # endpoint failed, in one sentence, like any other failure.
                what = "+".join(batched) if name == "rpc" else name
                sentence = surprise(f"driver {driver.name}", ip, what, result)
                surprises.append((sentence, result))
                result = ProtocolError(sentence)
            if isinstance(result, CollectorError):
                for key in (batched if name == "rpc" else [name]):
                    failures[key] = result
            elif isinstance(result, BaseException):  # cancellation: not the device's doing
                raise result
            elif name == "rpc":
                replies.update(result)
            else:
                replies[name] = result
        for name, error in failures.items():
            log.debug("%s: %s failed: %s", ip, name, error)
        return replies, failures
