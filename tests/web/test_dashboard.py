"""The dashboard and its API, over a state directory a real commander filled from simfarm (nine
miners, the first overheating in the second cycle)."""

from __future__ import annotations

import re
import time

import pyarrow as pa
import pytest

from appliance.store.files import write_table
from appliance.store.latest import latest_path, read_latest
from tests.web.conftest import checked
from web import display


@pytest.fixture
def viewer(signed_in):
    return signed_in("viewer")


def test_the_dashboard_api_counts_every_miner_once_by_status(viewer, state):
    answer = checked(viewer.get("/api/v1/dashboard"), "/dashboard").get_json()
    rows = read_latest(state, "miners")
    assert sum(answer["statuses"].values()) == rows.num_rows == answer["farm"]["miners_total"]
    assert answer["statuses"]["offline"] == answer["farm"]["miners_offline"]
    assert answer["problems"] == []


def test_the_dashboard_api_tells_an_unreachable_miner_from_one_that_does_not_hash(viewer, state):
    # The commander's latest rows, as they would be with one miner gone and one answering at 0 H/s.
    rows = read_latest(state, "miners")
    reachable = rows["reachable"].to_pylist()
    hashrate = rows["hashrate_hs"].to_pylist()
    reachable[1], hashrate[2] = False, 0.0
    rows = rows.set_column(rows.schema.get_field_index("reachable"), "reachable", pa.array(reachable))
    rows = rows.set_column(rows.schema.get_field_index("hashrate_hs"), "hashrate_hs", pa.array(hashrate))
    write_table(rows, latest_path(state, "miners"), row_group_size=rows.num_rows)
    statuses = checked(viewer.get("/api/v1/dashboard"), "/dashboard").get_json()["statuses"]
    assert statuses["offline"] >= 1 and statuses["not_hashing"] >= 1
    page = viewer.get("/dashboard/live").get_data(as_text=True)
    assert re.search(r'data-status="offline"><a [^>]*>(\d+)<', page)[1] == str(statuses["offline"])
    assert re.search(r'data-status="not_hashing"><a [^>]*>(\d+)<', page)[1] == str(statuses["not_hashing"])


def test_the_hottest_miner_is_the_overheating_one_and_links_to_its_page(viewer, filled):
    answer = checked(viewer.get("/api/v1/dashboard"), "/dashboard").get_json()
    hottest = answer["hottest"]
    assert hottest[0]["ip"] == filled[1][0]  # fill() overheats the first miner
    assert [m["temp_max_c"] for m in hottest] == sorted((m["temp_max_c"] for m in hottest), reverse=True)
    page = viewer.get("/").get_data(as_text=True)
    assert f'href="/miners/{hottest[0]["key"].replace(":", "%3A")}"' in page


def test_the_worst_performers_are_the_lowest_share_of_their_rating_first(viewer):
    worst = checked(viewer.get("/api/v1/dashboard"), "/dashboard").get_json()["worst"]
    assert worst and [m["hashrate_pct"] for m in worst] == sorted(m["hashrate_pct"] for m in worst)


def test_the_page_shows_each_algorithms_hashrate_against_its_rating(viewer):
    farm = viewer.get("/api/v1/farm").get_json()
    page = viewer.get("/").get_data(as_text=True)
    for row in farm["algorithms"]:
        assert display.hashrate(row["hashrate_hs"]) in page
        assert f'of {display.hashrate(row["hashrate_nominal_hs"])} rated' in page
    assert 'hx-trigger="every 10s"' in page and 'data-farm-chart="/api/v1/farm/history"' in page
    for site in farm["sites"]:
        assert f">{site['site']}</a>" in page


def test_the_fragment_is_the_figures_without_the_frame(viewer):
    fragment = viewer.get("/dashboard/live")
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "header" not in html and "data-status=" in html


def test_before_the_first_cycle_the_page_says_why_and_keeps_asking(viewer, state):
    (state / "snmp" / "farm.json").unlink()
    page = viewer.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "has not finished a poll cycle" in html and 'hx-trigger="every 10s"' in html
    assert checked(viewer.get("/api/v1/dashboard"), "/dashboard").status_code == 503


def test_the_history_api_is_the_stores_farm_history_per_algorithm(viewer, state):
    answer = checked(viewer.get("/api/v1/farm/history"), "/farm/history").get_json()
    assert answer["step"] == "1h" and answer["to"] - answer["from"] == pytest.approx(86_400)
    assert answer["algorithms"], "the two cycles fill() ran are in the raw tail"
    for series in answer["algorithms"]:
        assert len(series["time"]) == len(series["hashrate_hs"]) == len(series["power_w"]) == len(series["miners"])
    latest = read_latest(state, "miners")
    assert max(max(s["miners"]) for s in answer["algorithms"]) <= latest.num_rows


def test_the_history_api_refuses_a_range_backwards_or_not_a_time(viewer):
    now = time.time()
    for query in (f"from={now}&to={now - 60}", "from=yesterday", "to=nan", f"from={now - 500 * 86_400}&to={now}"):
        answer = checked(viewer.get(f"/api/v1/farm/history?{query}"), "/farm/history")
        assert answer.status_code == 400, query
    short = checked(viewer.get(f"/api/v1/farm/history?from={now - 3600}&to={now}"), "/farm/history")
    assert short.get_json()["step"] == "5m"


def test_the_dashboard_and_its_api_need_a_sign_in(client):
    assert client.get("/").status_code == 302
    assert client.get("/dashboard/live").status_code in (302, 401)
    assert client.get("/api/v1/dashboard").status_code == 401
    assert client.get("/api/v1/farm/history").status_code == 401


@pytest.mark.parametrize(("hs", "text"), [(None, "–"), (0, "0.00 H/s"), (1234.0, "1.23 kH/s"),
                                          (234e12, "234 TH/s"), (1.5e18, "1.50 EH/s")])
def test_hashrates_are_scaled_for_reading(hs, text):
    assert display.hashrate(hs) == text


@pytest.mark.parametrize(("w", "text"), [(None, "–"), (950.0, "950 W"), (3250.0, "3.25 kW"), (2.5e6, "2.50 MW")])
def test_power_is_scaled_for_reading(w, text):
    assert display.power(w) == text
