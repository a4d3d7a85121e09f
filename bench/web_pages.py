"""The web's pages and API on a 10,000-miner farm with 7 days of history at a 30 s cycle.

    .venv-bench/bin/python -m bench.web_pages [--miners N] [--runs N] [--keep]
    (BENCH_QUICK=1: 1,000 miners, 10 requests a route)

1. The state directory, ending at the wall clock's now (pages that ask the clock see fresh data):
   latest rows, inventory (four sites), farm document, alert state and health file from two cycles
   of the commander's own writers (``bench.web_metrics.build_state``); then the miners table's
   history. Synthetic, to build in a minute or two: 10 real cycles of rows (``rows_from_snapshots``)
   make 5 minutes, copied 12 times (times shifted) into an hour, written as compaction writes a
   closed hour (``merge_sorted``: bucket files); the other 167 hours of the 7 days are that hour's
   bucket files again with their times shifted (two processes write them). The current hour holds
   its closed 5 minutes as ``min5-`` files of those rows and the two real cycles' files. The 5-minute
   and 1-hour rollups are ``rollup_table`` of that hour, shifted into every closed hour, and days
   before today merged into day files by the store's own ``compact``. So every value repeats each
   5 minutes; the files, their names, sizes, row groups and buckets are what the store holds. Only
   the miners table has history (boards, pools and rigs have their latest rows only).
2. Each route through the real app (``create_app``, a signed-in test client): p50 and p95 of the
   time a request takes in the server's process (no network); a route that does not exist yet, or
   still renders the placeholder page, is "not built yet" and skipped. Each request timed is the
   first after a cycle (every file the commander rewrites touched before it, so no cache the web
   keeps of them is fresh), and is followed by one more with nothing changed.

Goals (issue 11): each page and chart < 300 ms p95, a miner's 24 h history < 200 ms, /metrics < 1 s.
``bench.web_load`` measures the last goal, the commander's cycle with 20 browsers open. The machine may be busy with
other work: the figures are medians and percentiles of what it gave, not a verdict.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from flask import template_rendered

from appliance.config import load
from appliance.store.compaction import ROW_GROUP, compact, merge_sorted
from appliance.store.farm import farm_rows
from appliance.store.files import write_table
from appliance.store.layout import FIVE_MINUTES, HOUR, dataset, hour_name, partition_dir, span_name
from appliance.store.rollup import rollup_table
from appliance.store.schema import TABLES, rows_from_snapshots
from bench.store import CYCLE, advance, say, scratch, shifted, tree_mb
from bench.web_metrics import build_state, site_for
from web import create_app

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
DAYS = 7
PAGE_GOAL_MS, HISTORY_24H_GOAL_MS, METRICS_GOAL_MS = 300, 200, 1000
PLACEHOLDER = "pages/placeholder.html"  # what a page renders until it is built


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def five_minutes(snaps, keys: list[str], start: datetime, rng: random.Random) -> pa.Table:
    """10 cycles of real rows from ``start``, sorted as compaction sorts them."""
    cycles = []
    for k in range(10):
        advance(snaps, start + k * CYCLE, rng)
        cycles.append(rows_from_snapshots(snaps, start + k * CYCLE, site_for, keys=keys)["miners"])
    return pa.concat_tables(cycles).sort_by(TABLES["miners"].sort_keys)


def _copy_hour(template: list[str], shift_h: int, root: str) -> None:
    """The template hour's bucket files, ``shift_h`` hours later, under their own hour's name."""
    for path in map(Path, template):
        rows = shifted(pq.read_table(path), timedelta(hours=shift_h))
        moment = rows["time"][0].as_py()
        name = path.name.replace(path.name.split(".")[0], hour_name(moment.hour).removesuffix(".parquet"))
        write_table(rows, partition_dir(Path(root), moment.date()) / name, row_group_size=ROW_GROUP[HOUR])


def build_history(state: Path, scratch_dir: Path, snaps, keys: list[str], until: datetime,
                  rng: random.Random) -> int:
    """The miners table's raw rows and rollups for the ``DAYS`` days before the cycle at ``until``
    and the one before it (``build_state``'s); returns the hours."""
    raw = dataset("miners")
    now = until - CYCLE
    first = floor_hour(now) - timedelta(days=DAYS)
    five = five_minutes(snaps, keys, first, rng)
    hour = pa.concat_tables([shifted(five, i * FIVE_MINUTES) for i in range(12)]).sort_by(raw.table.sort_keys)
    source = scratch_dir / "hour.parquet"
    write_table(hour, source, row_group_size=ROW_GROUP[HOUR])
    directory = partition_dir(raw.root(state), first.date())
    directory.mkdir(parents=True, exist_ok=True)
    template = merge_sorted([source], raw, directory, hour_name(first.hour), ROW_GROUP[HOUR])
    hours = int((floor_hour(now) - first) / HOUR)
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(_copy_hour, [str(p) for p in template], h, str(raw.root(state))) for h in range(1, hours)]
        for step, name in (("5m", "miners_5m"), ("1h", "miners_1h")):
            rolled = rollup_table(hour, raw.table, step)
            for h in range(hours):
                moment = first + h * HOUR
                write_table(shifted(rolled, h * HOUR),
                            partition_dir(dataset(name).root(state), moment.date()) / hour_name(moment.hour),
                            row_group_size=32_768)  # as the rollup job writes an hour
        for future in done:
            future.result()
        # The store merges each closed day of rollups into day files; hours of today stay hour files.
        merged = [pool.submit(compact, state, dataset(name), now) for name in ("miners_5m", "miners_1h")]
        for future in merged:
            future.result()
    current = floor_hour(now)
    while current + FIVE_MINUTES <= now:  # then the open 5 minutes, with build_state's two cycles
        rows = shifted(five, current - first)
        write_table(rows, partition_dir(raw.root(state), current.date()) / span_name(current, FIVE_MINUTES),
                    row_group_size=ROW_GROUP[FIVE_MINUTES])
        totals = pa.concat_tables(farm_rows(rows.filter(pc.equal(rows["time"], moment)), "commander")
                                  for moment in pc.unique(rows["time"]))  # as each cycle's store_cycle writes them
        write_table(totals, partition_dir(dataset("farm").root(state), current.date())
                    / span_name(current, FIVE_MINUTES), row_group_size=ROW_GROUP[FIVE_MINUTES])
        current += FIVE_MINUTES
    return hours


def build(state: Path, scratch_dir: Path, miners: int) -> tuple[datetime, list[str]]:
    rng = random.Random(17)
    until = datetime.now(UTC).replace(microsecond=0)
    until -= timedelta(seconds=until.second % 30)
    snaps, keys = build_state(state, miners, rng, until)
    started = time.perf_counter()
    hours = build_history(state, scratch_dir, snaps, keys, until, rng)
    say(f"  history: {hours} hours of raw rows and rollups in {time.perf_counter() - started:.0f} s; on disk "
        f"metrics {tree_mb(state / 'metrics'):.0f} MB, rollups {tree_mb(state / 'rollups'):.0f} MB")
    return until, keys


def _config(root: Path, state: Path) -> Path:
    path = root / "web.toml"
    path.write_text(f'[commander]\nstate_dir = "{state}"\n')
    secrets = root / "secrets.toml"
    secrets.write_text("")
    secrets.chmod(0o600)
    return path


def signed_in(app, state: Path):
    """A test client signed in as the generated admin."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    password = (state / "web" / "initial-admin-password").read_text().strip()
    answer = client.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
    if answer.status_code != 302:
        raise SystemExit(f"bench.web_pages: signing in answered {answer.status_code}")
    return client


@contextmanager
def templates_rendered(app):
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)
    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def unix(moment: datetime) -> str:
    return f"{moment.timestamp():.0f}"  # the API's from= and to=


def routes(key: str, now: datetime) -> list[tuple[str, str, int]]:
    """(what, path, goal in ms) for every route the issue sets a goal for, and the fragments and
    APIs that the pages poll."""
    week, day, to = unix(now - timedelta(days=7)), unix(now - timedelta(days=1)), unix(now)
    return [
        ("dashboard", "/", PAGE_GOAL_MS),
        ("dashboard fragment (htmx)", "/dashboard/live", PAGE_GOAL_MS),
        ("GET /api/v1/dashboard", "/api/v1/dashboard", PAGE_GOAL_MS),
        ("farm's 24 h chart", f"/api/v1/farm/history?from={day}&to={to}", PAGE_GOAL_MS),
        ("miners list", "/miners", PAGE_GOAL_MS),
        ("miners list, filtered and sorted", "/miners?site=north&status=ok&sort=-temp_max_c", PAGE_GOAL_MS),
        ("farm map", "/map", PAGE_GOAL_MS),
        ("GET /api/v1/map", "/api/v1/map", PAGE_GOAL_MS),
        ("GET /api/v1/farm", "/api/v1/farm", PAGE_GOAL_MS),
        ("GET /api/v1/miners?per_page=100", "/api/v1/miners?per_page=100", PAGE_GOAL_MS),
        ("  filtered and sorted", "/api/v1/miners?per_page=100&site=north&status=ok&sort=-temp_max_c",
         PAGE_GOAL_MS),
        ("miner page", f"/miners/{key}", PAGE_GOAL_MS),
        ("a miner's 7-day chart data", f"/api/v1/miners/{key}/history?from={week}&to={to}", PAGE_GOAL_MS),
        ("a miner's 24 h chart data", f"/api/v1/miners/{key}/history?from={day}&to={to}", HISTORY_24H_GOAL_MS),
    ]


def exists(app, path: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path.split("?", 1)[0])
    except Exception:  # werkzeug's NotFound, or MethodNotAllowed: no such GET route
        return False
    return True


def a_cycle(state: Path) -> None:
    """What a commander cycle does to the files the web reads: each is new (its time changes), so
    whatever the web keeps of them until they change is read again."""
    for path in [*state.glob("latest/*.parquet"), *(state / name for name in (
            "alerts.json", "snmp/farm.json", "health.json", "inventory.sqlite3"))]:
        if path.exists():
            os.utime(path)


def measure(app, client, path: str, runs: int, state: Path) -> tuple[str | None, list[float], list[float]]:
    """(why it was not timed, or None; ms of each first request after a cycle; ms of each request
    again, nothing changed)."""
    if not exists(app, path):
        return "not built yet (no such route)", [], []
    with templates_rendered(app) as rendered:
        answer = client.get(path)
    if PLACEHOLDER in rendered:
        return "not built yet (the placeholder page)", [], []
    if answer.status_code != 200:
        return f"answered {answer.status_code}: {answer.get_data(as_text=True)[:160]!r}", [], []
    after, again = [], []
    for _ in range(runs):
        a_cycle(state)
        for times in (after, again):
            started = time.perf_counter()
            client.get(path).get_data()
            times.append((time.perf_counter() - started) * 1000)
    return None, after, again


def line(what: str, why: str | None, after: list[float], again: list[float], goal: int) -> str:
    if why is not None:
        return f"{what:36} {why}"
    p50, p95 = statistics.median(after), percentile(after, 0.95)
    verdict = "met" if p95 < goal else "NOT met"
    return (f"{what:36} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  x{p95 / goal:4.2f} of the goal "
            f"(< {goal:,} ms p95): {verdict}  (unchanged files: p50 {statistics.median(again):.1f} ms)")


def pages(state: Path, root: Path, key: str, now: datetime, runs: int) -> None:
    app = create_app(load(_config(root, state)), {"TESTING": True})
    client = signed_in(app, state)
    say(f"each route, {runs} times the first request after a cycle (p50, p95), and then again:")
    for what, path, goal in [*routes(key, now), ("/metrics", "/metrics", METRICS_GOAL_MS)]:
        say(line(what, *measure(app, client, path, runs, state), goal))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.web_pages", description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, default=1_000 if QUICK else 10_000)
    parser.add_argument("--runs", type=int, default=10 if QUICK else 20, help="requests timed per route")
    parser.add_argument("--keep", action="store_true", help="leave the state directory in place")
    args = parser.parse_args(argv)
    with scratch("pages", args.keep) as root:
        state = root / "state"
        say(f"bench.web_pages: {args.miners:,} miners, {DAYS} days at a 30 s cycle, in {state}")
        started = time.perf_counter()
        now, keys = build(state, root, args.miners)
        say(f"  state built in {time.perf_counter() - started:.0f} s")
        pages(state, root, keys[len(keys) // 3], now, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
