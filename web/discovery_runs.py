"""Scans a person starts from the Discovery page, run by the web itself (it is that person's
action, as DESIGN allows): one at a time, in a thread of its own with its own event loop, with the
commander's own identification, concurrency and timeout ([discovery]), over addresses typed as
addresses, ranges or networks only (never a file name: the web reads no file a person names).
Its progress and what answered are kept in memory for the page to poll; nothing is written until
the person adds addresses, which goes to the commander as an ``add_devices`` change."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field

from appliance.commander import poll_settings
from appliance.config import Config
from appliance.inventory import InventoryError, read_devices
from collectors.identify import Identity
from collectors.poll import Poller
from collectors.scan import scan
from collectors.targets import Target, TargetError, expand

# Addresses, ranges (10.0.0.1-10.0.0.99 or 10.0.0.1-99) and networks (10.0.0.0/24), comma-separated.
_TYPED = re.compile(r"[0-9./\-\s,]+")
MAX_SCAN = 65_536  # addresses in one scan from the web: a /16


class ScanRefused(ValueError):
    """Why a scan cannot start, in one sentence."""


@dataclass
class Run:
    text: str
    by: str
    total: int
    started_at: float = field(default_factory=time.time)
    done: int = 0
    finished_at: float | None = None
    found: list[Identity] = field(default_factory=list)
    error: str | None = None
    known: dict[str, str] = field(default_factory=dict)  # address -> the inventory's key, for those known


class Discoveries:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.current: Run | None = None
        self._lock = threading.Lock()

    def start(self, text: str, by: str) -> Run:
        if not _TYPED.fullmatch(text or "") or not text.strip():
            raise ScanRefused("give addresses, ranges (10.0.0.1-99) or networks (10.0.0.0/24), comma-separated")
        try:
            targets = expand([part for part in text.split(",") if part.strip()])
        except TargetError as exc:
            raise ScanRefused(str(exc)) from exc
        if len(targets) > MAX_SCAN:
            raise ScanRefused(f"{len(targets):,} addresses: a scan from the web takes at most {MAX_SCAN:,}")
        with self._lock:
            if self.current is not None and self.current.finished_at is None:
                raise ScanRefused(f"{self.current.by} is scanning {self.current.text} now; wait for it to end")
            run = self.current = Run(text.strip(), by, len(targets))
        threading.Thread(target=self._run, args=(run, targets), name="discovery", daemon=True).start()
        return run

    def _run(self, run: Run, targets: list[Target]) -> None:
        async def go() -> list[Identity]:
            def progress(n: int) -> None:
                run.done += n

            async with Poller(poll_settings(self.config, web_port=80)) as poller:
                return await scan(poller, targets, progress=progress)

        try:
            found = asyncio.run(go())
            run.found = [i for i in found if i.driver or not i.stranger]
            try:
                run.known = {d.ip: d.key for d in read_devices(self.config.state_dir) if d.ip}
            except InventoryError:
                run.known = {}
        except Exception as exc:  # one sentence on the page; the web goes on
            run.error = f"the scan of {run.text} failed: {exc}"
        finally:
            run.done = run.total
            run.finished_at = time.time()
