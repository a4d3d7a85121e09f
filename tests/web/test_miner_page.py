"""One miner's page and its history: identity with the addresses it had, boards by slot, pools,
alerts; the history API reading raw samples for a day and rollups for longer ranges, each series
aligned on one time axis, as openapi.json says."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.config import load
from appliance.store.jobs import store_cycle
from appliance.store.rollup import rollup
from collectors.model import Board, Fan, MinerSnapshot
from tests.appliance.store.helpers import snapshot
from tests.web.conftest import checked, login, web_config
from web import create_app

KEY = "AA:BB:CC:00:00:01"  # snapshot(1)'s MAC: its key for life, whatever its address


def reading(moment: datetime, n: int, ip: str) -> MinerSnapshot:
    """Miner 1 at ``moment``, its n-th reading: hashrate and temperatures that tell the points apart."""
    return dataclasses.replace(
        snapshot(1, moment), ip=ip, hashrate_hs=100e12 + n * 1e12, temp_max_c=60.0 + n, rejected=2 * n,
        boards=[Board(index=b, hashrate_hs=(100e12 + n * 1e12) / 3, chips=76 - b, chips_expected=76,
                      temp_chip_c=60.0 + n - b, temp_board_c=50.0, status="ok") for b in (2, 0, 1)],
        fans=[Fan(index=0, rpm=5000 + n), Fan(index=1, rpm=None)])


@dataclasses.dataclass
class History:
    state: Path
    now: datetime
    recent: list[datetime]  # raw samples in the last minutes
    old_hour: datetime  # two days ago, rolled up: the miner had another address then


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    state = tmp_path_factory.mktemp("history") / "state"
    now = datetime.now(UTC).replace(microsecond=0)
    old_hour = (now - timedelta(days=2)).replace(minute=0, second=0)
    for n in range(12):  # one sample every 5 minutes: each 5-minute bucket holds one
        moment = old_hour + timedelta(minutes=5 * n)
        store_cycle(state, [reading(moment, n, "10.9.0.1"), snapshot(2, moment)], moment)
    for table in ("miners", "boards"):
        rollup(state, table, old_hour + timedelta(hours=1, minutes=5))
    recent = [now - timedelta(seconds=30 * (10 - n)) for n in range(10)]
    for n, moment in enumerate(recent):
        store_cycle(state, [reading(moment, n, "10.0.0.1"), snapshot(2, moment)], moment)
    return History(state, now, recent, old_hour)


def signed_in_admin(root: Path, state: Path):
    """A client of a web over ``state``, signed in as its first admin."""
    client = create_app(load(web_config(root, state)), {"TESTING": True}).test_client()
    password = (state / "web" / "initial-admin-password").read_text().strip()
    assert login(client, "admin", password).status_code == 302
    return client


@pytest.fixture
def admin(history, tmp_path):
    return signed_in_admin(tmp_path, history.state)


def test_a_day_of_history_is_every_raw_sample_aligned_on_one_time_axis(admin, history):
    day = checked(admin.get(f"/api/v1/miners/{KEY}/history"), "/miners/{key}/history").json
    assert day["resolution"] == "raw"
    assert day["time"] == [m.timestamp() for m in history.recent]
    assert day["hashrate_hs"] == [100e12 + n * 1e12 for n in range(10)]
    assert day["temp_max_c"] == [60.0 + n for n in range(10)]
    assert day["rejected_increase"] == [None] + [2.0] * 9  # two more every sample; the first has no previous
    assert [b["index"] for b in day["boards"]] == [0, 1, 2]  # by slot, whatever order the firmware gave
    assert day["boards"][2]["temp_chip_c"] == [58.0 + n for n in range(10)]
    assert day["fans"] == [{"index": 0, "rpm": [5000 + n for n in range(10)]}, {"index": 1, "rpm": [None] * 10}]


def test_longer_ranges_read_the_rollups(admin, history):
    now = history.now.timestamp()
    week = checked(admin.get(f"/api/v1/miners/{KEY}/history?from={now - 7 * 86400}&to={now}"),
                   "/miners/{key}/history").json
    assert week["resolution"] == "5m"
    assert week["time"] == [(history.old_hour + timedelta(minutes=5 * n)).timestamp() for n in range(12)]
    assert week["hashrate_hs"] == [100e12 + n * 1e12 for n in range(12)]
    assert week["fans"] == []  # rollups keep no fans: said, not drawn as zeros
    assert [b["index"] for b in week["boards"]] == [0, 1, 2]
    year = checked(admin.get(f"/api/v1/miners/{KEY}/history?from={now - 365 * 86400}&to={now}"),
                   "/miners/{key}/history").json
    assert (year["resolution"], year["time"]) == ("1h", [history.old_hour.timestamp()])
    assert year["hashrate_hs"] == [pytest.approx(100e12 + 5.5e12)]  # the hour's average
    assert year["temp_max_c"] == [71.0]  # the hour's hottest


@pytest.mark.parametrize("query, sentence", [
    ("from=yesterday", "from and to must be Unix seconds"),
    ("from=200&to=100", "from must come before to"),
    ("from=0&to=100000000", "a history spans at most 400 days"),
])
def test_a_bad_range_is_one_sentence(admin, query, sentence):
    answer = checked(admin.get(f"/api/v1/miners/{KEY}/history?{query}"), "/miners/{key}/history")
    assert answer.status_code == 400 and answer.json["error"].startswith(sentence)


def test_the_page_shows_identity_boards_by_slot_pools_and_the_charts_source(admin, history):
    page = admin.get(f"/miners/{KEY}").get_data(as_text=True)
    assert "aa:bb:cc:00:00:01" in page and "Antminer S19 Pro" in page
    assert re.findall(r"<tr>\s*<td>(\d)</td><td>ok</td>", page) == ["0", "1", "2"]  # boards by slot
    assert '<td class="num short">74 / 76</td>' in page  # chips against expected: slot 2 is two short
    assert "stratum+tcp://pool.example:3333" in page and "farm.w1" in page
    assert f'data-history="/api/v1/miners/{KEY}/history"' in page
    assert "10.9.0.1" in page and "10.0.0.1" in page  # the address it had two days ago, and its own now
    assert admin.get("/miners/no-such-key").status_code == 404


def test_a_viewer_needs_to_sign_in(history, tmp_path):
    client = create_app(load(web_config(tmp_path, history.state)), {"TESTING": True}).test_client()
    assert client.get(f"/api/v1/miners/{KEY}/history").status_code == 401
    assert client.get(f"/miners/{KEY}").status_code == 302
