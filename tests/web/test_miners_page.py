"""The Miners list over what a real commander wrote: every filter (the inventory's racks and tags
too), the sort and the pages on the server, the table fragment htmx swaps, links that keep the
filters, the CSV export, and bulk tagging recorded for the commander, who applies it."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from appliance.alerts.engine import AlertEngine
from appliance.alerts.settings import AlertSettings
from appliance.config import load
from appliance.intake import CHANGES_FILE, Intake, handlers
from appliance.inventory import Inventory
from appliance.store.latest import update_latest
from appliance.store.schema import rows_from_snapshots
from collectors.model import Board, MinerSnapshot, Pool
from tests.web.conftest import checked, csrf_token, login, web_config
from web import create_app


def addresses(html: str) -> list[str]:
    """The miners a list page shows, in its order: each row's link to its miner page."""
    return re.findall(r'<td><a href="/miners/[^"]+">([^<]+)</a></td>', html)


@pytest.fixture
def latest(state) -> pd.DataFrame:
    return pd.read_parquet(state / "latest" / "miners.parquet")


@pytest.fixture
def placed(state, latest):
    """The first three miners on rack A1, tagged "repaste", as the commander would have them."""
    keys = list(latest.sort_values("device")["device"][:3])
    with Inventory.open(state) as inventory:
        for key in keys:
            inventory.place(key, "default", "A1", None, "test")
        inventory.retag(keys, ["repaste"], [])
    return keys


def test_each_filter_keeps_only_its_miners(signed_in, latest, placed, filled):
    viewer = signed_in("viewer")
    ips = dict(zip(latest["device"], latest["ip"]))
    by_rack = addresses(viewer.get("/miners?rack=A1").get_data(as_text=True))
    assert sorted(by_rack) == sorted(ips[k] for k in placed)
    assert addresses(viewer.get("/miners?tag=repaste&per_page=100").get_data(as_text=True)) == by_rack
    for column in ("make", "model", "firmware"):
        value = latest[column].iloc[0]
        shown = addresses(viewer.get("/miners", query_string={column: value}).get_data(as_text=True))
        assert sorted(shown) == sorted(latest[latest[column] == value]["ip"]), column
    hot = filled[1][0]  # overheating: its chip alert fires
    assert addresses(viewer.get("/miners?alerting=yes").get_data(as_text=True)) == [hot]
    assert hot not in addresses(viewer.get("/miners?alerting=no").get_data(as_text=True))
    assert addresses(viewer.get("/miners?status=critical").get_data(as_text=True)) == [hot]
    assert addresses(viewer.get("/miners?site=nowhere").get_data(as_text=True)) == []


def test_search_finds_a_miner_by_address_mac_serial_host_name_or_pool_worker(signed_in, state, latest):
    viewer = signed_in("viewer")
    pools = pd.read_parquet(state / "latest" / "pools.parquet")
    rows = latest.merge(pools[["device", "user"]].drop_duplicates("device"), on="device", how="left")
    for column in ("ip", "mac", "serial", "hostname", "user"):
        known = rows.dropna(subset=[column])
        assert len(known), f"the emulated farm reports no {column}"
        one = known.iloc[len(known) // 2]
        text = one[column].lower() if column == "mac" else one[column]  # any case
        assert one["ip"] in addresses(viewer.get("/miners", query_string={"q": text}).get_data(as_text=True)), column


def test_sorting_and_pages_happen_on_the_server_and_links_keep_the_filters(signed_in, latest, placed):
    viewer = signed_in("viewer")
    fastest = list(latest.sort_values("hashrate_hs", ascending=False)["ip"])
    page = viewer.get("/miners?sort=-hashrate_hs&per_page=50").get_data(as_text=True)
    assert addresses(page) == fastest
    second = viewer.get("/miners?sort=-hashrate_hs&per_page=4&page=2").get_data(as_text=True)
    assert addresses(second) == fastest[4:8]
    assert "page 2 of 3" in second
    tagged = viewer.get("/miners?tag=repaste&sort=-power_w&per_page=2").get_data(as_text=True)
    links = [a.replace("&amp;", "&") for a in re.findall(r'<a href="(/miners\?[^"]+)"', tagged)]
    assert links and all("tag=repaste" in link for link in links)  # sorting or paging keeps the filter
    assert any("page=2" in link and "sort=-power_w" in link for link in links)


def test_htmx_gets_the_table_alone_and_the_filters_stay_in_its_address(signed_in, latest):
    viewer = signed_in("viewer")
    make = latest["make"].iloc[0]
    fragment = viewer.get("/miners", query_string={"make": make}, headers={"HX-Request": "true",
                                                                           "HX-Target": "miners-table"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="miners-table"') and "<header" not in html
    assert "HX-Target" in fragment.headers["Vary"]
    assert sorted(addresses(html)) == sorted(latest[latest["make"] == make]["ip"])
    whole = viewer.get("/miners", query_string={"make": make}).get_data(as_text=True)
    assert '<header class="top">' in whole and f'<option selected>{make}</option>' in whole


def test_the_csv_export_is_the_filtered_list_with_units_in_the_header(signed_in, latest, placed):
    viewer = signed_in("viewer")
    answer = viewer.get("/miners.csv?tag=repaste")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert sorted(r["key"] for r in rows) == sorted(placed)
    assert {"hashrate_ths", "power_w", "temp_max_c", "uptime_s"} <= set(rows[0])
    truth = latest.set_index("device")

    def cell(text: str) -> float | None:  # a plain number, no unit in it; empty for what nobody reported
        return float(text) if text else None

    for row in rows:
        assert cell(row["hashrate_ths"]) == pytest.approx(truth.loc[row["key"], "hashrate_hs"] / 1e12)
        power = truth.loc[row["key"], "power_w"]
        assert cell(row["power_w"]) == (None if pd.isna(power) else power)
        assert (row["rack"], row["tags"]) == ("A1", "repaste")
    everyone = list(csv.DictReader(io.StringIO(viewer.get("/miners.csv").get_data(as_text=True))))
    assert len(everyone) == len(latest)  # every page, not the first


def test_the_api_takes_the_same_filters(signed_in, placed, filled):
    viewer = signed_in("viewer")
    tagged = checked(viewer.get("/api/v1/miners?tag=repaste&rack=A1"), "/miners").json
    assert sorted(m["key"] for m in tagged["items"]) == sorted(placed)
    assert all(m["tags"] == ["repaste"] and m["rack"] == "A1" for m in tagged["items"])
    alerting = checked(viewer.get("/api/v1/miners?alerting=yes"), "/miners").json
    assert [m["ip"] for m in alerting["items"]] == [filled[1][0]]
    bad = checked(viewer.get("/api/v1/miners?alerting=maybe"), "/miners")
    assert bad.status_code == 400 and bad.json["error"] == "alerting must be yes or no, not 'maybe'"


def changes(state) -> list[dict]:
    path = state / CHANGES_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_tags_chosen_in_the_list_reach_the_commander(signed_in, state, latest, tmp_path):
    operator = signed_in("operator")
    keys = list(latest.sort_values("device")["device"][:2])
    page = operator.get("/miners").get_data(as_text=True)
    answer = operator.post("/miners/tags", data={"csrf_token": csrf_token(page), "bulk_tag": "row-7", "action": "add",
                                                 "key": keys, "make": latest["make"].iloc[0]})
    assert answer.status_code == 303
    recorded = changes(state)[-1]
    assert (recorded["kind"], recorded["by"], sorted(recorded["devices"]), recorded["add"]) == (
        "tags", "olga", sorted(keys), ["row-7"])
    assert recorded["id"] in answer.headers["Location"] and "make=" in answer.headers["Location"]

    # The commander's intake applies it; the list then filters on the new tag.
    engine = AlertEngine(AlertSettings.from_mapping({}, "test").rules, tmp_path / "engine.json")
    with Inventory.open(state) as inventory:
        [outcome] = Intake(state, handlers(engine, lambda: inventory)).apply_new(time.time())
    assert outcome["outcome"] == "applied"
    listed = operator.get("/miners?tag=row-7").get_data(as_text=True)
    assert sorted(addresses(listed)) == sorted(latest.set_index("device").loc[keys, "ip"])
    shown = operator.get(answer.headers["Location"]).get_data(as_text=True)
    assert "The commander applied the change" in shown


def test_choosing_all_that_match_tags_every_miner_of_the_filter(signed_in, state, latest):
    operator = signed_in("operator")
    make = latest["make"].iloc[0]
    token = csrf_token(operator.get("/miners").get_data(as_text=True))
    answer = operator.post("/miners/tags", data={"csrf_token": token, "bulk_tag": "batch-3", "action": "remove",
                                                 "all_matching": "1", "make": make})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    recorded = changes(state)[-1]
    assert sorted(recorded["devices"]) == sorted(latest[latest["make"] == make]["device"])
    assert (recorded["add"], recorded["remove"]) == ([], ["batch-3"])


def test_only_an_operator_tags_and_never_without_the_csrf_token(signed_in, state, latest):
    key = latest["device"].iloc[0]
    viewer = signed_in("viewer")
    token = csrf_token(viewer.get("/miners").get_data(as_text=True))
    assert viewer.post("/miners/tags", data={"csrf_token": token, "bulk_tag": "x", "action": "add",
                                             "key": key}).status_code == 403
    assert 'id="bulk"' not in viewer.get("/miners").get_data(as_text=True)  # no form a viewer cannot use
    operator = signed_in("operator")
    assert operator.post("/miners/tags", data={"bulk_tag": "x", "action": "add", "key": key}).status_code == 400
    token = csrf_token(operator.get("/miners").get_data(as_text=True))
    for bad in ({"bulk_tag": "", "action": "add", "key": key}, {"bulk_tag": "x", "action": "burn", "key": key},
                {"bulk_tag": "x", "action": "add"}):
        assert operator.post("/miners/tags", data={"csrf_token": token, **bad}).status_code == 400
    assert changes(state) == []


def test_ten_thousand_miners_list_a_page_at_a_time(tmp_path):
    state = tmp_path / "state"
    snapshots = [MinerSnapshot(f"10.0.{n // 256}.{n % 256}", 4028, make="Bitmain", model="Antminer S19",
                               firmware=("stock", "braiins")[n % 2], algorithm="SHA256", reachable=True,
                               hashrate_hs=90e12 + n * 1e9, power_w=3250.0,
                               mac=f"02:00:00:00:{n // 256:02X}:{n % 256:02X}", boards=[Board(0), Board(1)],
                               pools=[Pool(0, user=f"farm.w{n}")], polled_at=1_764_230_400.0)
                 for n in range(10_000)]
    update_latest(state, rows_from_snapshots(snapshots, datetime.now(UTC)))
    app = create_app(load(web_config(tmp_path, state)), {"TESTING": True})
    client = app.test_client()
    password = (state / "web" / "initial-admin-password").read_text().strip()
    assert login(client, "admin", password).status_code == 302
    page = client.get("/miners?firmware=braiins&sort=-hashrate_hs&per_page=200&page=3").get_data(as_text=True)
    assert "5,000 miners" in page and "page 3 of 25" in page
    shown = addresses(page)
    assert len(shown) == 200 and shown[0] == "10.0.35.239"  # the 401st fastest braiins: n = 9999 - 2 * 400
    assert addresses(client.get("/miners?q=farm.w9998").get_data(as_text=True)) == ["10.0.39.14"]
