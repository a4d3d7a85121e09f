"""The commander: the farm's jobs wired together.

poll (every ASIC) -> inventory (identity, last seen) -> store (Parquet) -> alerts (rules, channels)
-> the farm document for snmpd (``appliance.snmp.farm_file``); sentries (every rig, over SNMP) ->
the same; discovery (scan the configured subnets) -> inventory; storage upkeep (rollups, compaction,
retention); people's changes from the web (``appliance.intake``) -> alerts, inventory; each a job of ``appliance.scheduler`` with the rules it enforces (no overlap, skipped
runs counted, failures contained, health written).

Blocking work (Parquet writes and upkeep, SQLite) runs in worker threads so the event loop keeps
polling on time; device I/O is the collectors' and is bounded by their timeouts.

A damaged state file costs that file (``appliance.damaged``): the store's jobs and the alerting set
theirs aside and go on; a damaged inventory, found at the start or by any job, is set aside with
its journal and rebuilt from the configured miners and sentries and the store's latest rows (key,
address, identity, site), and the next discovery adds what those lack.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appliance import ha
from appliance.alerts.rules import SentryLink
from appliance.asic_sentries import (MAX_BACKLOG_S, Cursor, Cycle, client_context, load_cursors, pull_all,
                                     save_cursors, to_judge)
from appliance.alerts.service import AlertService
from appliance.config import AsicSentryLink, Config, Sentry
from appliance.damaged import set_aside
from appliance.health import Health
from appliance.intake import INTAKE_S, Intake, handlers
from appliance.pki import pki_dir
from appliance.inventory import Device, Inventory, InventoryDamaged
from appliance.scheduler import Outcome, Scheduler
from appliance.snmp import farm_file
from appliance.snmp.farm_file import FarmState
from appliance.store.durable import recover
from appliance.store.jobs import maintain, store_backlog, store_cycle
from appliance.store.latest import load_latest
from collectors.asic import DRIVERS
from collectors.credentials import Credentials
from collectors.fleet import Polled, poll_target
from collectors.identify import Identity
from collectors.model import MinerSnapshot, RigSnapshot, sentry_address
from collectors.poll import Poller, PollSettings
from collectors.rig import poll_rigs
from collectors.scan import scan
from collectors.targets import Target, expand
from collectors.transport.snmp import SnmpTarget

log = logging.getLogger(__name__)
_Job = Callable[["Commander"], Awaitable[Outcome]]


def _rebuilds_a_damaged_inventory(job: _Job) -> _Job:
    """A job that finds the inventory damaged sets it aside, rebuilds it, and runs again, once."""
    @functools.wraps(job)
    async def run(self: Commander) -> Outcome:
        try:
            return await job(self)
        except InventoryDamaged as damaged:
            self.inventory = self._rebuilt_inventory(damaged, self.inventory)
        return await job(self)
    return run


class Commander:
    def __init__(self, config: Config, *, web_port: int = 80) -> None:
        self.config = config
        self.state_dir = config.state_dir
        self.settings = poll_settings(config, web_port)
        self.scheduler = Scheduler(self.state_dir, refresh=self._refresh_health)
        self.identities: dict[str, Any] = {}  # device key -> identity replies (MAC, serial), fetched once
        self.last_snapshots: list[MinerSnapshot] = []
        self.last_rigs: list[RigSnapshot] = []
        self.last_transitions: list[Any] = []
        self.last_rig_transitions: list[Any] = []
        self.last_discovery: Discovery | None = None
        self.last_poll: tuple[float, float] | None = None  # (Unix s it started, ms it took)
        self.warned: dict[str, tuple[str, ...]] = {}  # address -> the warnings of its last poll that answered
        self.inventory: Inventory | None = None
        self.poller: Poller | None = None
        self.alerts: AlertService | None = None
        self.intake: Intake | None = None
        self.asic_cursors = load_cursors(self.state_dir)
        self.asic_latest: dict[str, dict[str, MinerSnapshot]] = {}  # sentry -> address -> its newest snapshot
        self.on_cycle: Callable[[Commander], None] | None = None  # after each poll cycle (serve's report)
        self.on_rigs: Callable[[Commander], None] | None = None  # after each sentries cycle (the demo's report)

    async def __aenter__(self) -> Commander:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            removed = await asyncio.to_thread(recover, self.state_dir)
            if removed:
                log.warning("removed %d files an interrupted write left in %s", removed, self.state_dir)
            self.inventory = self._open_inventory()
            self.poller = await Poller(self.settings).__aenter__()
            self.alerts = await AlertService.from_settings(self.config.alerts, self.config.channels,
                                                           self.state_dir).__aenter__()
            self.intake = Intake(self.state_dir, handlers(self.alerts.engine, lambda: self.inventory))
        except BaseException:
            await self.__aexit__(None, None, None)  # what did open (the poller's sockets) closes
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.scheduler.stop(clean=exc[0] is None)
        if self.alerts is not None:
            await self.alerts.__aexit__(*exc)
        if self.poller is not None:
            await self.poller.__aexit__(*exc)
        if self.inventory is not None:
            self.inventory.close()

    def _refresh_health(self, health: Health) -> None:
        if self.alerts is not None:
            health.channels = self.alerts.dispatcher.status()

    def _open_inventory(self) -> Inventory:
        """The inventory, synced with the configuration; rebuilt if it is damaged."""
        inventory = None
        try:
            inventory = Inventory.open(self.state_dir)
            return self._synced(inventory)
        except InventoryDamaged as damaged:
            return self._rebuilt_inventory(damaged, inventory)

    def _rebuilt_inventory(self, damaged: InventoryDamaged, open_: Inventory | None) -> Inventory:
        """A new inventory in place of a damaged one, which is set aside before its connection (if
        ``open_``) closes: closing folds the journal into the file, the set-aside one by then."""
        set_aside(damaged.path, damaged.reason,
                  then="rebuilding it from the configuration, the store's latest rows and the next discovery")
        if open_ is not None:
            open_.close()
        return self._synced(Inventory.open(self.state_dir))

    def _synced(self, inventory: Inventory) -> Inventory:
        """``inventory`` with the configured miners and rigs; an empty one (new, or rebuilt) first
        gets the miners the store knows, under the keys their history is filed under."""
        if not inventory.devices():
            added = inventory.restore(load_latest(self.state_dir, "miners", datetime.now(UTC)).to_pylist())
            if added:
                log.info("inventory: %d miners added from the store's latest rows", added)
        inventory.sync_configured(self.config.miners)
        inventory.sync_rigs(self.config.sentries)
        return inventory

    def schedule(self) -> None:
        intervals = self.config.intervals
        self.scheduler.add("poll", intervals.poll_s, self.poll_cycle)
        if self.config.sentries:
            self.scheduler.add("sentries", intervals.sentries_s, self.sentries_cycle)
        if intervals.discovery_s and self._discovery_targets():
            self.scheduler.add("discovery", intervals.discovery_s, self.discover)
        self.scheduler.add("storage", intervals.compaction_s, self.upkeep, first_run_now=False)
        self.scheduler.add("changes", INTAKE_S, self.apply_changes)
        if self.config.asic_sentries:
            self.scheduler.add("asic_sentries", intervals.poll_s, self.pull_asic_sentries)
        self.scheduler.start()

    # --- jobs --------------------------------------------------------------------------------

    @_rebuilds_a_damaged_inventory
    async def poll_cycle(self) -> Outcome:
        """Poll every known miner once; store the samples; evaluate the alerts."""
        assert self.inventory is not None and self.poller is not None and self.alerts is not None
        started = time.time()
        devices, snapshots, keys = await poll_known(self.inventory, self.poller, self.identities,
                                                    self.config.site_for, started)
        cycle_time = datetime.fromtimestamp(started, UTC)
        try:
            await asyncio.to_thread(store_cycle, self.state_dir, snapshots, cycle_time, self.config.site_for,
                                    keys=keys)
        except Exception as exc:  # a full disk costs this cycle's samples, never its alerts
            not_stored: Exception | None = exc
        else:
            not_stored = None
        self.scheduler.health.role = ha.role(self.config.alerts.ha_role_file)
        self.last_transitions = self.alerts.cycle(started, snapshots)
        self._log_warnings(snapshots)
        self._forget_unwatched(d.ip for d in devices)
        self.last_snapshots = snapshots
        self.last_poll = (started, round((time.time() - started) * 1000, 1))
        await self._publish_farm()
        if self.on_cycle is not None:
            self.on_cycle(self)
        if not_stored is not None:
            raise not_stored  # the job's failure: counted, logged, shown by `minerwatch status`
        ok = sum(1 for s in snapshots if s.reachable)
        return Outcome(ok=ok, failed=len(snapshots) - ok)

    @_rebuilds_a_damaged_inventory
    async def sentries_cycle(self) -> Outcome:
        """Read every rig's sentry over SNMP; store its GPUs; evaluate the rig rules."""
        assert self.alerts is not None
        started = time.time()
        rigs = await poll_rigs([_snmp_target(s) for s in self.config.sentries],
                               concurrency=self.settings.concurrency)
        cycle_time = datetime.fromtimestamp(started, UTC)
        await asyncio.to_thread(store_cycle, self.state_dir, [], cycle_time, self.config.site_for, rigs)
        assert self.inventory is not None
        self.inventory.seen_rigs(rigs, started)
        self.last_rigs = rigs
        self.last_rig_transitions = self.alerts.cycle(started, rigs)
        await self._publish_farm()
        if self.on_rigs is not None:
            self.on_rigs(self)
        ok = sum(1 for r in rigs if r.reachable)
        return Outcome(ok=ok, failed=len(rigs) - ok)

    @_rebuilds_a_damaged_inventory
    async def pull_asic_sentries(self) -> Outcome:
        """Every ASIC sentry's cycles since the last pull, stored under their own poll times and
        judged at them (``appliance.asic_sentries``); one alert per sentry that cannot be reached."""
        assert self.alerts is not None
        started = time.time()
        links = list(self.config.asic_sentries)
        try:
            context = await asyncio.to_thread(client_context, self.state_dir)
        except (OSError, ssl.SSLError) as exc:
            reached = {link.name: False for link in links}
            why = f"the commander's certificate in {pki_dir(self.state_dir)} cannot be used ({exc}): " \
                  "`minerwatch pki issue commander --for commander` makes it"
            for link in links:
                self.asic_cursors.setdefault(link.name, Cursor()).error = why
        else:
            reached = await pull_all(links, self.asic_cursors, context, self._ingest_asic_sentry, started)
        self.alerts.cycle(started, [SentryLink(link.name, link.url, reached[link.name],
                                               self.asic_cursors[link.name].error) for link in links])
        await asyncio.to_thread(save_cursors, self.state_dir, self.asic_cursors)
        await self._publish_farm()
        ok = sum(reached.values())
        return Outcome(ok=ok, failed=len(links) - ok)

    async def _ingest_asic_sentry(self, link: AsicSentryLink, cycles: list[Cycle]) -> None:
        """A batch of one sentry's cycles: its miners' identities from the newest (the inventory),
        every cycle stored, the alerts judged (``to_judge``)."""
        assert self.inventory is not None and self.alerts is not None
        newest = cycles[-1]
        self.inventory.upsert_discovered(newest.snapshots, at=newest.polled_at, site_for=lambda ip: link.site,
                                         sentry=link.name)
        devices = [d for d in self.inventory.devices() if d.sentry == link.name]
        by_mac = {d.mac: d.key for d in devices if d.mac}
        by_ip = {d.ip: d.key for d in devices if d.ip}
        batch = [(datetime.fromtimestamp(cycle.polled_at, UTC), cycle.snapshots,
                  [by_mac.get(s.mac) or by_ip.get(s.ip) or s.ip for s in cycle.snapshots]) for cycle in cycles]
        await asyncio.to_thread(store_backlog, self.state_dir, batch, lambda ip: link.site, link.name)
        self.alerts.catch_up([(cycle.polled_at, cycle.snapshots) for cycle in to_judge(cycles)])
        self.asic_latest[link.name] = {snap.ip: snap for snap in newest.snapshots}

    def _log_warnings(self, snapshots: Iterable[MinerSnapshot]) -> None:
        """A miner's warnings (a login it refuses) are not alerts: each is logged when it begins,
        and one line when they end; a miner that did not answer says nothing either way."""
        for snap in snapshots:
            if not snap.reachable:
                continue
            now, before = tuple(snap.warnings), self.warned.get(snap.ip, ())
            for warning in now:
                if warning not in before:
                    log.warning("%s: %s", snap.ip, warning)
            if before and not now:
                log.info("%s: polled without warnings again", snap.ip)
            self.warned[snap.ip] = now

    def _forget_unwatched(self, polled_ips: Iterable[str]) -> None:
        """Alerts are filed under a miner's address: when a miner moves (DHCP) or leaves, nothing is
        polled at its old address any more, and its alerts there would fire forever. Close them."""
        assert self.alerts is not None
        assert self.inventory is not None
        watched = set(polled_ips) | {sentry_address(s.host, s.port) for s in self.config.sentries}
        # Miners behind an ASIC sentry are watched through it, even while its link is down.
        watched |= {d.ip for d in self.inventory.devices() if d.sentry} | {
            SentryLink(link.name, link.url, True).address for link in self.config.asic_sentries}
        stale = self.alerts.engine.unwatched(watched)
        if stale:
            closed = self.alerts.engine.forget_all(stale, "no longer polled at this address")
            log.info("alerts: %d address(es) no longer polled; %d firing alert(s) closed", len(stale), len(closed))

    async def _publish_farm(self) -> None:
        """The farm document for the commander's snmpd; a failure to write it is logged, never the
        cycle's failure (the samples are stored by then)."""
        assert self.inventory is not None and self.alerts is not None
        started, took_ms = self.last_poll or (None, None)
        state = FarmState(name=self.config.name, ha_role=ha.nms_role(self.config.alerts.ha_role_file),
                          alerts_active=len(self.alerts.engine.firing()), poll_duration_ms=took_ms, polled_at=started)
        devices = self.inventory.devices()
        miners = {ip: snap for latest in self.asic_latest.values() for ip, snap in latest.items()}
        miners.update({s.ip: s for s in self.last_snapshots})
        rigs = {r.address: r for r in self.last_rigs}
        try:
            await asyncio.to_thread(lambda: farm_file.write(
                self.state_dir, farm_file.document(state, devices, miners, rigs, time.time())))
        except OSError as exc:
            log.warning("cannot write %s for snmpd: %s", farm_file.farm_path(self.state_dir), exc)

    @_rebuilds_a_damaged_inventory
    async def discover(self) -> Outcome:
        """Scan the configured subnets and record every miner found (new, moved, or known)."""
        assert self.inventory is not None and self.poller is not None
        self.last_discovery = await discover(self.config, self.inventory, self.poller)
        return self.last_discovery.outcome

    @_rebuilds_a_damaged_inventory
    async def apply_changes(self) -> Outcome:
        """What people changed through the web since the last look (``appliance.intake``)."""
        assert self.intake is not None
        done = self.intake.apply_new(time.time())
        applied = sum(1 for outcome in done if outcome["outcome"] == "applied")
        return Outcome(ok=applied, failed=len(done) - applied)

    async def upkeep(self) -> Outcome:
        """Rollups, compaction and retention of the Parquet store, in a worker thread."""
        done = await asyncio.to_thread(maintain, self.config.storage, datetime.now(UTC), self._complete_until())
        return Outcome(ok=len(done.rolled_up) + len(done.compacted) + len(done.removed), failed=0)

    def _discovery_targets(self) -> Sequence[Target]:
        return discovery_targets(self.config)

    def _complete_until(self) -> datetime | None:
        """Until when the store is complete: an ASIC sentry that is behind (its link cut) still
        holds the samples after the last one ingested. A sentry silent for longer than a buffer
        holds (MAX_BACKLOG) is not waited for."""
        now = time.time()
        behind = [cursor.polled_at or now for name, cursor in self.asic_cursors.items()
                  if name in {link.name for link in self.config.asic_sentries}
                  and (cursor.error is not None or cursor.behind)]
        return datetime.fromtimestamp(max(min(behind), now - MAX_BACKLOG_S), UTC) if behind else None


async def poll_known(inventory: Inventory, poller: Poller, identities: dict[str, Any], site_for: Callable[[str], str],
                     started: float) -> tuple[list[Device], list[MinerSnapshot], list[str]]:
    """Poll every ASIC of the inventory once (the commander's cycle, and an ASIC sentry's): the
    devices, their snapshots and the keys their samples are filed under, in one order.
    ``identities`` (device key -> identity replies: MAC, serial) is filled on first contact."""
    devices = [d for d in inventory.devices() if d.ip and d.kind == "asic" and d.sentry is None]

    async def one(device: Device) -> Polled:
        driver = device.driver if device.driver in DRIVERS else None
        polled = await poll_target(poller, Target(device.ip, device.port), driver, identities.get(device.key))
        if polled.identity is not None:
            identities[device.key] = polled.identity
        return polled

    polled = await asyncio.gather(*(one(d) for d in devices))
    snapshots = [p.snapshot for p in polled]
    # A miner that answered is the device its MAC or serial says (two that swapped addresses are
    # told apart); one that did not is the device polled at that address.
    found = inventory.upsert_discovered(snapshots, at=started, site_for=site_for)
    # One identified by this poll (unidentified at discovery, or configured without a driver)
    # keeps its driver and port: the next polls go straight to it.
    identified = [p.found for p in polled if p.found is not None and p.found.driver and p.snapshot.reachable]
    if identified:
        inventory.upsert_discovered(identified, at=started, site_for=site_for)
    return devices, snapshots, [key or device.key for key, device in zip(found, devices)]


def discovery_targets(config: Config) -> Sequence[Target]:
    subnets = list(config.discovery.subnets) or [n.text for s in config.sites for n in s.subnets]
    return expand(subnets) if subnets else []


@dataclass(frozen=True)
class Discovery:
    """What one discovery found: the miners identified, and the addresses that answered badly."""

    addresses: int  # how many it scanned
    miners: int  # identified, and in the inventory
    strangers: int  # answered only as something no driver knows (a web page): not miners, left out
    badly: tuple[Identity, ...]  # a miner port answered, then it hung or answered garbage: watched unidentified

    @property
    def outcome(self) -> Outcome:
        return Outcome(ok=self.miners, failed=len(self.badly))

    def summary(self, most: int = 5) -> str:
        """One line for the operator, naming the first ``most`` addresses that answered badly and why."""
        line = f"discovery of {self.addresses:,} addresses: {self.miners} miners identified"
        if self.strangers:
            line += f", {self.strangers} other devices left out"
        if not self.badly:
            return line
        named = "; ".join(identity.error or identity.ip for identity in self.badly[:most])
        more = f"; and {len(self.badly) - most} more" if len(self.badly) > most else ""
        return (f"{line}; {len(self.badly)} answered badly and are watched as unidentified miners "
                f"(polled each cycle, alerted on while they do not answer): {named}{more}")


async def discover(config: Config, inventory: Inventory, poller: Poller) -> Discovery:
    """Scan the configured subnets into the inventory: the daemon's job, and ``minerwatch discover``.

    A configured rig is left out: a rig running TeamRedMiner answers the cgminer API on 4028 like
    an ASIC, and is read through its sentry already. An address where a miner port answers but
    nothing can be identified joins the inventory unidentified (``Inventory.add_unidentified``)."""
    targets = discovery_targets(config)
    found = await scan(poller, targets)
    rigs = {sentry.host for sentry in config.sentries}
    known = [i for i in found if i.driver and i.ip not in rigs]
    badly = tuple(i for i in found if not i.driver and not i.stranger and i.ip not in rigs)
    keys = inventory.upsert_discovered(known, site_for=config.site_for)
    added = set(inventory.add_unidentified((i.ip for i in badly), site_for=config.site_for))
    for identity in badly:
        if identity.ip in added:  # said once, when it joins; its polls say the rest
            log.warning("discovery: %s; watched as an unidentified miner", identity.error)
    return Discovery(addresses=len(targets), miners=sum(1 for k in keys if k),
                     strangers=sum(1 for i in found if i.stranger), badly=badly)


def poll_settings(config: Config, web_port: int) -> PollSettings:
    return PollSettings(
        timeout_s=config.discovery.timeout_s, concurrency=config.discovery.concurrency, web_port=web_port,
        credentials=Credentials.of(config.credentials))


def _snmp_target(sentry: Sentry) -> SnmpTarget:
    """The collectors' SNMP target for a configured sentry (its secrets come from secrets.toml)."""
    if sentry.version == "v3":
        return SnmpTarget(sentry.host, sentry.port, version="3", user=sentry.user,
                          auth_protocol=sentry.auth_protocol or "SHA", auth_key=sentry.auth_password,
                          priv_protocol=sentry.priv_protocol or "AES", priv_key=sentry.priv_password)
    return SnmpTarget(sentry.host, sentry.port, version="2c", community=sentry.community or "")
