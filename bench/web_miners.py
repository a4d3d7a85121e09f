"""The Miners list and a miner's history as the web serves them, on ``bench.store``'s synthetic
10,000-miner farm (30 s cycle, 3 boards, 4 fans, 3 pools each).

    .venv/bin/python -m bench.web_miners [--miners N] [--keep]

The store is built as ``bench.store`` builds it: one real hour through ``store_cycle``'s writers,
compacted and rolled up, then 23 more hours of the miners *and boards* tables as shifted copies of
the compacted hour (a miner page reads both). Then it times, median of 20 over different miners,
page cache warm:

- ``web.history.miner`` for the last 24 h (what ``GET /api/v1/miners/<key>/history`` reads: the
  chart's columns of the miners table and the boards table, aligned; goal < 200 ms);
- the same through Flask's test client (the JSON too);
- the Miners page, whole and the htmx table fragment, 50 rows of 10,000 sorted by hashrate, and
  a filter on a pool worker (goal < 300 ms).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from appliance.config import load
from bench.store import farm, median_ms, real_hour, repeat_hour0, say, scratch, synthetic_history
from web import create_app, history
from web.users import Users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.web_miners", description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the store in place")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    with scratch("web-miners", args.keep) as state:
        say(f"bench.web_miners: {args.miners:,} miners, 30 s cycle, store in {state}")
        snaps = farm(args.miners, rng)
        real_hour(state, snaps, rng)
        now = synthetic_history(state)
        repeat_hour0(state, "boards")
        devices = [s.mac for s in rng.sample(snaps, 20)]
        since = now - timedelta(hours=24)
        points = len(history.miner(state, devices[0], since, now)["time"])
        runs = iter(devices * 2)
        ms = median_ms(lambda: history.miner(state, next(runs), since, now), 20)
        say(f"24 h history of one miner (miners + boards): {ms:6.1f} ms  ({points:,} points; goal < 200 ms)")

        config = state.parent / f"{state.name}.toml"
        config.write_text(f'[commander]\nstate_dir = "{state}"\n')
        (state.parent / "secrets.toml").write_text("")
        (state.parent / "secrets.toml").chmod(0o600)
        client = create_app(load(config), {"TESTING": True}).test_client()
        bearer = {"Authorization": f"Bearer {Users(state).create_token('bench', 'viewer')}"}
        runs = iter(devices * 2)
        window = f"from={since.timestamp()}&to={now.timestamp()}"
        ms = median_ms(lambda: client.get(f"/api/v1/miners/{next(runs)}/history?{window}", headers=bearer), 20)
        say(f"  GET /api/v1/miners/<key>/history, 24 h: {ms:6.1f} ms")

        session = create_app(load(config), {"TESTING": True}).test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', session.get("/login").get_data(as_text=True))[1]
        password = (state / "web" / "initial-admin-password").read_text().strip()
        session.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
        for label, url, headers in (
                ("the Miners page, 50 of all, by hashrate", "/miners?sort=-hashrate_hs", {}),
                ("  its table fragment (htmx)", "/miners?sort=-hashrate_hs", {"HX-Target": "miners-table"}),
                ("  a search on a pool worker", "/miners?q=farm.w77", {"HX-Target": "miners-table"})):
            answer = session.get(url, headers=headers)
            if answer.status_code != 200:
                say(f"{label}: HTTP {answer.status_code}; not timed")
                continue
            ms = median_ms(lambda u=url, h=headers: session.get(u, headers=h), 10)
            say(f"{label}: {ms:6.1f} ms  (goal < 300 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
