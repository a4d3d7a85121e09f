"""/api/v1 over what a real commander wrote: the farm per algorithm, the miner list with its
filters and pages, one miner, the alerts; every answer as openapi.json says; a damaged file is a
sentence, never a traceback; and /healthz."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime

import pandas as pd
import pytest
from jsonschema import Draft202012Validator

from appliance.config import load
from appliance.store.latest import update_latest
from appliance.store.schema import rows_from_snapshots
from collectors import algorithms
from collectors.model import Board, Fan, MinerSnapshot
from tests.web.conftest import OPENAPI, checked, fresh_health, web_config
from web import create_app
from web.users import Users


@pytest.fixture
def viewer(signed_in):
    return signed_in("viewer")


def test_the_openapi_document_is_served_and_its_schemas_are_valid(viewer):
    assert viewer.get("/api/v1/openapi.json").json == OPENAPI
    assert OPENAPI["openapi"].startswith("3.")
    for schema in OPENAPI["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_the_farm_per_algorithm_as_the_commander_stored_it(viewer, state, filled):
    farm = checked(viewer.get("/api/v1/farm"), "/farm").json
    latest = pd.read_parquet(state / "latest" / "miners.parquet")
    latest["name"] = latest["algorithm"].map(algorithms.canonical)
    up = latest[latest["reachable"]]
    assert [row["algorithm"] for row in farm["algorithms"]] == sorted(set(latest["name"]), key=algorithms.order)
    for row in farm["algorithms"]:
        mine = latest[latest["name"] == row["algorithm"]]
        assert row["miners"] == len(mine)
        assert math.isclose(row["hashrate_hs"], up[up["name"] == row["algorithm"]]["hashrate_hs"].sum())
        assert math.isclose(row["hashrate_nominal_hs"], mine["hashrate_nominal_hs"].sum())
        assert math.isclose(row["efficiency_jth"], row["power_w"] / (row["hashrate_hs"] / 1e12))
    assert (farm["miners_total"], farm["miners_online"], farm["miners_offline"]) == (len(latest), len(up), 0)
    assert farm["rigs_total"] == 0 and farm["alerts_firing"] >= 1
    assert "hashrate_hs" not in farm  # never a sum across algorithms


def test_the_miner_list_filters_sorts_and_pages_on_the_server(viewer, filled):
    ips = filled[1]
    everyone = checked(viewer.get("/api/v1/miners?per_page=1000"), "/miners").json
    assert everyone["total"] == len(ips) and everyone["problems"] == []
    assert [m["ip"] for m in everyone["items"]] == ips  # by address, as numbers
    hot = everyone["items"][0]
    assert (hot["status"], hot["site"], hot["rack"]) == ("critical", "default", None)
    assert {m["status"] for m in everyone["items"][1:]} == {"ok"}
    assert hot["boards"] and hot["fans"] and hot["pools"]

    page = checked(viewer.get("/api/v1/miners?per_page=4&page=2&sort=-hashrate_hs"), "/miners").json
    ranked = sorted(everyone["items"], key=lambda m: m["hashrate_hs"], reverse=True)
    assert (page["total"], [m["key"] for m in page["items"]]) == (len(ips), [m["key"] for m in ranked[4:8]])

    make = hot["make"]
    same = checked(viewer.get(f"/api/v1/miners?make={make}"), "/miners").json
    assert same["total"] == sum(m["make"] == make for m in everyone["items"])
    found = checked(viewer.get(f"/api/v1/miners?q={hot['mac'].lower()}"), "/miners").json
    assert [m["key"] for m in found["items"]] == [hot["key"]]
    critical = checked(viewer.get("/api/v1/miners?status=critical"), "/miners").json
    assert [m["key"] for m in critical["items"]] == [hot["key"]]
    assert checked(viewer.get("/api/v1/miners?site=elsewhere"), "/miners").json["total"] == 0


@pytest.mark.parametrize("query, sentence", [
    ("sort=password", "sort must be one of ip, site, make"),
    ("status=asleep", "status must be one of offline, not_hashing"),
    ("per_page=5000", "per_page must be a whole number from 1 to 1000, not '5000'"),
    ("page=0", "page must be a whole number from 1"),
])
def test_a_bad_parameter_is_one_sentence(viewer, query, sentence):
    answer = checked(viewer.get(f"/api/v1/miners?{query}"), "/miners")
    assert answer.status_code == 400 and answer.json["error"].startswith(sentence)


def test_one_miner_and_the_alerts(viewer, filled):
    ip = filled[1][0]
    listed = viewer.get(f"/api/v1/miners?q={ip}&per_page=1").json["items"][0]
    one = checked(viewer.get(f"/api/v1/miners/{listed['key']}"), "/miners/{key}").json
    assert one == listed | {"problems": []}
    missing = checked(viewer.get("/api/v1/miners/no-such-key"), "/miners/{key}")
    assert missing.status_code == 404
    alerts = checked(viewer.get("/api/v1/alerts"), "/alerts").json["items"]
    assert {(a["device"], a["rule"], a["state"]) for a in alerts} >= {(ip, "temp_chip", "firing")}


def test_a_farm_document_of_an_older_commander_has_no_rating(viewer, state):
    path = state / "snmp" / "farm.json"
    doc = json.loads(path.read_text())
    for row in doc["algorithms"]:
        del row["hashrate_nominal_hs"]
    path.write_text(json.dumps(doc))
    farm = checked(viewer.get("/api/v1/farm"), "/farm").json
    assert {row["hashrate_nominal_hs"] for row in farm["algorithms"]} == {None}


def test_a_damaged_or_missing_file_costs_its_data_in_one_sentence(viewer, state):
    (state / "snmp" / "farm.json").write_text('{"version": 1, "farm": ')
    farm = checked(viewer.get("/api/v1/farm"), "/farm")
    assert farm.status_code == 503
    assert farm.json["error"].startswith(f"{state / 'snmp' / 'farm.json'} is damaged (")
    assert farm.json["error"].endswith("the commander rewrites it after its next cycle")

    (state / "alerts.json").write_bytes(b"\x00garbage")
    miners = checked(viewer.get("/api/v1/miners"), "/miners").json  # the list stands, without alert statuses
    assert miners["total"] > 0 and miners["problems"][0].startswith(f"{state / 'alerts.json'} is damaged")
    assert checked(viewer.get("/api/v1/alerts"), "/alerts").status_code == 503

    (state / "latest" / "miners.parquet").write_bytes(b"PAR1 cut short")
    answer = checked(viewer.get("/api/v1/miners"), "/miners")
    assert answer.status_code == 503 and "miners.parquet is damaged" in answer.json["error"]
    assert (state / "latest" / "miners.parquet").exists()  # the commander's to set aside, not the web's

    (state / "snmp" / "farm.json").unlink()
    assert "has not finished a poll cycle" in checked(viewer.get("/api/v1/farm"), "/farm").json["error"]
    for answer in (viewer.get("/api/v1/farm"), viewer.get("/api/v1/miners")):
        assert "Traceback" not in answer.get_data(as_text=True)


def test_healthz_needs_no_login_and_follows_the_commanders_health(client, state):
    (state / "health.json").unlink()
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_data(as_text=True) == (f"{state / 'health.json'} does not exist: the commander has not run "
                                             "with this state directory\n")
    fresh_health(state)
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_data(as_text=True).startswith("commander running, pid ")
    fresh_health(state, age_s=3600)
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.get_data(as_text=True).startswith("commander NOT POLLING")
    fresh_health(state, stopped_at=time.time())
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.get_data(as_text=True).startswith("commander STOPPED")


def test_ten_thousand_miners_page_on_the_server(tmp_path):
    """The list at farm size: every filter and sort over all 10,000 rows, a page of them returned."""
    state = tmp_path / "state"
    snapshots = [MinerSnapshot(f"10.0.{n // 256}.{n % 256}", 4028, make=("Bitmain", "MicroBT")[n % 2],
                               model="Antminer S19", algorithm="SHA256", reachable=n % 100 != 7,
                               hashrate_hs=None if n % 100 == 7 else 90e12 + n * 1e9, power_w=3250.0,
                               mac=f"02:00:00:00:{n // 256:02X}:{n % 256:02X}", boards=[Board(0), Board(1)],
                               fans=[Fan(0, 5400)], polled_at=1_764_230_400.0)
                 for n in range(10_000)]
    update_latest(state, rows_from_snapshots(snapshots, datetime.now(UTC)))
    client = create_app(load(web_config(tmp_path, state)), {"TESTING": True}).test_client()
    token = Users(state).create_token("bench", "viewer")
    bearer = {"Authorization": f"Bearer {token}"}

    first = checked(client.get("/api/v1/miners?per_page=3", headers=bearer), "/miners").json
    assert first["total"] == 10_000
    assert [m["ip"] for m in first["items"]] == ["10.0.0.0", "10.0.0.1", "10.0.0.2"]
    assert [len(m["boards"]) for m in first["items"]] == [2, 2, 2]
    last = checked(client.get("/api/v1/miners?per_page=1000&page=10", headers=bearer), "/miners").json
    assert last["items"][-1]["ip"] == "10.0.39.15"  # by address as numbers: .39.15 after .39.9
    fastest = client.get("/api/v1/miners?sort=-hashrate_hs&per_page=1", headers=bearer).json["items"][0]
    assert fastest["ip"] == "10.0.39.15"
    offline = client.get("/api/v1/miners?status=offline&make=MicroBT&per_page=1000", headers=bearer).json
    assert offline["total"] == 100 and {m["status"] for m in offline["items"]} == {"offline"}
    found = client.get("/api/v1/miners?q=02:00:00:00:27:0F", headers=bearer).json
    assert [m["ip"] for m in found["items"]] == ["10.0.39.15"]


def test_the_asic_sentries_as_the_commander_last_pulled_them(signed_in, state):
    from appliance.asic_sentries import Cursor, save_cursors

    save_cursors(state, {"north": Cursor(buffer="ab", seq=40, polled_at=1000.0, pulled_at=1001.0, behind=3,
                                         newest_polled_at=1090.0, buffer_bytes=2**20, buffer_max_bytes=2**30),
                         "south": Cursor(error="ASIC sentry south at https://10.3.0.2:8443 cannot be reached "
                                               "(connection refused)", failing_since=990.0)})
    answer = checked(signed_in("viewer").get("/api/v1/asic-sentries"), "/asic-sentries")
    north, south = answer.get_json()["items"]
    assert (north["name"], north["behind_cycles"], north["behind_s"], north["buffer_bytes"], north["error"]) == (
        "north", 3, 90.0, 2**20, None)
    assert south["error"].endswith("(connection refused)") and south["pulled_at"] is None


def test_a_miner_polled_by_an_asic_sentry_says_which(signed_in, state):
    from appliance.inventory import Inventory

    client = signed_in("viewer")
    item = client.get("/api/v1/miners?per_page=1").get_json()["items"][0]
    assert item["sentry"] is None
    with Inventory.open(state) as inventory:
        device = inventory.get(item["key"])
        inventory.upsert_discovered([MinerSnapshot(device.ip, 4028, reachable=True, mac=device.mac,
                                                   serial=device.serial)], sentry="north")
    again = checked(client.get(f"/api/v1/miners/{item['key']}"), "/miners/{key}").get_json()
    assert again["sentry"] == "north"
    assert "by ASIC sentry north" in client.get(f"/miners/{item['key']}").get_data(as_text=True)
