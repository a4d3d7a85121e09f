"""``minerwatch asic-sentry``: one site's ASICs polled on site, every cycle kept in the buffer until
the commander pulls it.

The same inventory, drivers, credentials, discovery and snapshot as the commander
(``appliance.commander.poll_known`` and ``discover``), in the sentry's own state directory; no
store, no alerts, no web: those are the commander's. It writes the site's farm document for its
own snmpd, as the commander does for the farm. Its jobs follow the commander's scheduler
rules and write its health, so ``minerwatch status --config asic-sentry.toml`` reads it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from appliance.commander import discover, discovery_targets, poll_known, poll_settings
from appliance.config import Config
from appliance.inventory import Device, Inventory
from appliance.scheduler import Outcome, Scheduler
from appliance.snmp import farm_file
from appliance.snmp.farm_file import FarmState
from appliance.tls import server_context
from asic_sentry.api import Api
from asic_sentry.buffer import Buffer
from collectors.model import MinerSnapshot
from collectors.poll import Poller

log = logging.getLogger(__name__)


class AsicSentryService:
    def __init__(self, config: Config, *, web_port: int = 80) -> None:
        assert config.asic_sentry is not None
        self.config, self.settings = config, config.asic_sentry
        self.state_dir = config.state_dir
        self.poll_settings = poll_settings(config, web_port)
        self.scheduler = Scheduler(self.state_dir)
        self.identities: dict = {}
        self.last_poll: tuple[float, float, int, int] | None = None  # started, ms, answered, polled
        self.inventory: Inventory | None = None
        self.poller: Poller | None = None
        self.buffer: Buffer | None = None
        self.api: Api | None = None

    async def __aenter__(self) -> AsicSentryService:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.inventory = Inventory.open(self.state_dir)
            self.inventory.sync_configured(self.config.miners)
            self.buffer = Buffer(self.state_dir / "buffer", self.settings.buffer_max_bytes,
                                 self.settings.buffer_reserve_bytes)
            context = server_context(str(self.settings.tls_cert), str(self.settings.tls_key), str(self.settings.tls_ca))
            self.api = Api(self.settings.listen, context, self.buffer, self.status)
            self.api.start()
            self.poller = await Poller(self.poll_settings).__aenter__()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.scheduler.stop(clean=exc[0] is None)
        if self.api is not None:
            self.api.stop()
        if self.poller is not None:
            await self.poller.__aexit__(*exc)
        if self.inventory is not None:
            self.inventory.close()

    def schedule(self) -> None:
        intervals = self.config.intervals
        self.scheduler.add("poll", intervals.poll_s, self.poll_cycle)
        if intervals.discovery_s and discovery_targets(self.config):
            self.scheduler.add("discovery", intervals.discovery_s, self.discover)
        self.scheduler.start()

    async def poll_cycle(self) -> Outcome:
        """Poll every miner once; keep the cycle for the commander."""
        assert self.inventory is not None and self.poller is not None and self.buffer is not None
        started = time.time()
        devices, snapshots, _ = await poll_known(self.inventory, self.poller, self.identities,
                                                    self.config.site_for, started)
        await asyncio.to_thread(self.buffer.append, started, [snap.to_dict() for snap in snapshots])
        answered = sum(1 for s in snapshots if s.reachable)
        self.last_poll = (started, round((time.time() - started) * 1000, 1), answered, len(snapshots))
        await self._publish_site(devices, snapshots)
        return Outcome(ok=answered, failed=len(snapshots) - answered)

    async def _publish_site(self, devices: list[Device], snapshots: list[MinerSnapshot]) -> None:
        """The site as MINERWATCH-MIB's farm and miner tables, for the site's own snmpd
        (``minerwatch snmpd-conf``): a local NMS sees the site while the link to the commander is down."""
        started, took_ms, _, _ = self.last_poll
        state = FarmState(name=self.settings.name, ha_role="standalone", alerts_active=0, poll_duration_ms=took_ms,
                          polled_at=started)
        document = farm_file.document(state, devices, {s.ip: s for s in snapshots}, {}, time.time())
        try:
            await asyncio.to_thread(farm_file.write, self.state_dir, document)
        except OSError as exc:
            log.warning("cannot write %s for snmpd: %s", farm_file.farm_path(self.state_dir), exc)

    async def discover(self) -> Outcome:
        assert self.inventory is not None and self.poller is not None
        return (await discover(self.config, self.inventory, self.poller)).outcome

    def status(self) -> dict:
        """What ``GET /v1/status`` answers (from the API's thread: reads only)."""
        assert self.buffer is not None
        started, took_ms, answered, polled = self.last_poll or (None, None, None, None)
        return {"name": self.settings.name, "buffer": self.buffer.stats(),
                "last_poll": {"at": started, "took_ms": took_ms, "answered": answered, "miners": polled}}
