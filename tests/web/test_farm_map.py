"""The farm map over a state directory a real commander filled from simfarm (nine miners, the
first overheating): one cell per miner, where the inventory or the site's rule puts it, coloured
by the metric picked, linking to the miner."""

from __future__ import annotations

import io
import json
import re
import time
from html import unescape

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from appliance.config import load
from appliance.intake import CHANGES_FILE, Intake, handlers
from appliance.inventory import Inventory
from appliance.store.files import write_table
from appliance.store.latest import latest_path, read_latest
from tests.web.conftest import checked, csrf_token, login, web_config
from web import create_app
from web.map_view import METRICS

CELL = re.compile(r'<a class="cell ([^"]*)" href="/miners/([^"]+)" title="([^"]*)" data-key="([^"]+)"></a>')


@pytest.fixture
def viewer(signed_in):
    return signed_in("viewer")


def cells(html: str) -> dict[str, tuple[str, str]]:
    """key -> (classes, title) of every cell on the page."""
    found = CELL.findall(html)
    assert len({key for *_, key in found}) == len(found), "a miner drawn twice"
    return {key: (classes, title) for classes, _, title, key in found}


def rack(html: str, name: str) -> str:
    return re.search(rf"<figure class=\"rack\"><figcaption>{re.escape(name)}</figcaption>(.*?)</figure>", html, re.S)[1]


def test_every_miner_is_one_cell_that_opens_it(viewer, state):
    html = viewer.get("/map").get_data(as_text=True)
    keys = read_latest(state, "miners")["device"].to_pylist()
    drawn = cells(html)
    assert sorted(drawn) == sorted(keys)
    for classes, link, _, key in CELL.findall(html):
        assert link.replace("%3A", ":") == key
    assert f"<span data-cells>{len(keys)}</span>" in html


def test_a_cell_stands_where_the_inventory_places_it(viewer, state):
    keys = read_latest(state, "miners")["device"].to_pylist()
    with Inventory.open(state) as inventory:
        inventory.place(keys[0], "default", "C1/R2", "R2-C3", "test")
        inventory.place(keys[1], "default", "C1/R2", "R1-C1", "test")
        inventory.place(keys[2], "default", "R10", "2", "test")
        inventory.place(keys[3], "default", "R10", "1", "test")
    html = viewer.get("/map").get_data(as_text=True)
    assert "<h3>C1</h3>" in html
    shelves = re.findall(r'<div class="shelf">(.*?)</div>', rack(html, "R2"))
    assert len(shelves) == 2  # rows 1 and 2, three columns each
    first, second = ([key for *_, key in CELL.findall(shelf)] for shelf in shelves)
    assert first == [keys[1]] and shelves[0].count('class="gap"') == 2
    assert second == [keys[0]] and shelves[1].index('class="gap"') < shelves[1].index(keys[0])
    assert [key for *_, key in CELL.findall(rack(html, "R10"))] == [keys[3], keys[2]]  # by slot
    unplaced = re.search(r'<figure class="rack unplaced">(.*?)</figure>', html, re.S)[1]
    assert len(CELL.findall(unplaced)) == len(keys) - 4


def test_the_sites_rule_places_the_miners_nobody_placed(state, tmp_path, passwords, filled):
    first, second, third, _ = filled[1][0].split(".")
    rule = (f'[[sites]]\nname = "farm"\nsubnets = ["{first}.{second}.0.0/16"]\n'
            f'place_by = "ip:{first}.{second}.{{rack}}.{{slot}}"\n')
    client = create_app(load(web_config(tmp_path, state, rule)), {"TESTING": True}).test_client()
    assert login(client, "victor", passwords["viewer"]).status_code == 302
    # The commander filed these miners under the default site, which has no rule.
    assert 'class="rack unplaced"' in client.get("/map").get_data(as_text=True)
    keys = read_latest(state, "miners")["device"].to_pylist()
    with Inventory.open(state) as inventory:
        for key in keys:
            inventory.place(key, "farm", None, None, "test")
    html = client.get("/map").get_data(as_text=True)
    assert 'class="rack unplaced"' not in html
    assert sorted(key for *_, key in CELL.findall(rack(html, third))) == sorted(keys)


def test_the_overheating_miner_is_the_hottest_colour(viewer, state, filled):
    html = viewer.get("/map?metric=temp").get_data(as_text=True)
    hot_ip = filled[1][0]
    drawn = cells(html)
    hot = next(classes for classes, title in drawn.values() if title.startswith(hot_ip + " "))
    others = [classes for classes, title in drawn.values() if not title.startswith(hot_ip + " ")]
    bucket = lambda classes: int(re.search(r"\bc(\d)\b", classes)[1]) if re.search(r"\bc\d\b", classes) else -1
    assert bucket(hot) > max(map(bucket, others))
    assert "°C" in drawn[next(iter(drawn))][1]


@pytest.mark.parametrize("metric", list(METRICS))
def test_each_metric_colours_every_cell_by_class(viewer, metric):
    html = viewer.get(f"/map?metric={metric}").get_data(as_text=True)
    for classes, _ in cells(html).values():
        assert re.match(r"(c\d|cx|s-[a-z_]+)( b-(off|alert|sleep))?$", classes), classes
    assert " style=" not in html


def test_an_unknown_metric_is_refused(viewer):
    answer = viewer.get("/map?metric=colour")
    assert answer.status_code == 400 and "metric must be one of" in answer.get_data(as_text=True)


def test_the_map_needs_a_sign_in(client):
    assert client.get("/map").status_code == 302


def test_an_unreachable_miner_has_no_reading_now(viewer, state):
    rows = read_latest(state, "miners")
    reachable = rows["reachable"].to_pylist()
    reachable[0] = False
    rows = rows.set_column(rows.schema.get_field_index("reachable"), "reachable", pa.array(reachable))
    write_table(rows, latest_path(state, "miners"), row_group_size=rows.num_rows)
    html = viewer.get("/map?metric=temp").get_data(as_text=True)
    classes, title = cells(html)[rows["device"][0].as_py()]
    assert classes == "cx b-off" and "–" in title and title.endswith("offline")


def upload(client, text: str):
    page = client.get("/map/import").get_data(as_text=True)
    return client.post("/map/import", data={"csrf_token": csrf_token(page), "csv": (io.BytesIO(text.encode()), "p.csv")},
                       content_type="multipart/form-data")


def test_a_csv_import_is_previewed_then_applied_by_the_commander(signed_in, state, filled):
    operator = signed_in("operator")
    ips = filled[1]
    text = (f"ip,site,rack,location\n{ips[0]},default,C1/R4,R1-C2\n{ips[1]},,R6,7\n10.9.9.9,default,R1,1\n"
            f"{ips[2]},nowhere,R1,1\n{ips[3]},default,R1,shelf three\n{ips[0]},default,R5,1\n")
    preview = upload(operator, text)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 miners to place" in html
    for why in ("line 4: no miner has the address 10.9.9.9", f"line 5: {ips[2]}: unknown site 'nowhere'",
                f"line 6: {ips[3]}: location 'shelf three' is neither R<row>-C<column>",
                f"line 7: {ips[0]} is placed on line 2 already"):
        assert why in unescape(html), why
    assert not (state / CHANGES_FILE).exists(), "a preview records nothing"

    applied = operator.post("/map/import", data={"csrf_token": csrf_token(html), "csv_text": text, "apply": "1"})
    assert 'data-recorded="2"' in applied.get_data(as_text=True)
    changes = [json.loads(line) for line in (state / CHANGES_FILE).read_text().splitlines()]
    assert [(c["kind"], c["by"], c["rack"], c["location"]) for c in changes] == [
        ("place", "olga", "C1/R4", "R1-C2"), ("place", "olga", "R6", "7")]

    with Inventory.open(state) as inventory:  # the commander's next intake
        outcomes = Intake(state, handlers(None, lambda: inventory)).apply_new(time.time())
    assert [o["outcome"] for o in outcomes] == ["applied", "applied"]
    html = operator.get("/map").get_data(as_text=True)
    key = read_latest(state, "miners").filter(pc.equal(read_latest(state, "miners")["ip"], ips[0]))["device"][0]
    assert key.as_py() in rack(html, "R4") and "<h3>C1</h3>" in html


def test_a_viewer_cannot_import_places(signed_in):
    viewer = signed_in("viewer")
    assert viewer.get("/map/import").status_code == 403
    assert 'href="/map/import"' not in viewer.get("/map").get_data(as_text=True)


def test_a_csv_without_a_key_or_ip_column_is_refused_whole(signed_in):
    html = upload(signed_in("operator"), "serial,rack\nX1,R1\n").get_data(as_text=True)
    assert "line 1: the header must name a key or an ip column" in html and "to place" not in html


def test_the_map_api_is_the_pages_cells_in_their_racks(viewer, state):
    keys = read_latest(state, "miners")["device"].to_pylist()
    with Inventory.open(state) as inventory:
        inventory.place(keys[0], "default", "C1/R2", "R2-C3", "test")
        inventory.place(keys[1], "default", "C1/R2", "R1-C1", "test")
    answer = checked(viewer.get("/api/v1/map?metric=temp"), "/map").get_json()
    assert answer["cells"] == len(keys) and answer["metric"] == "temp" and len(answer["legend"]) == 10
    site = answer["sites"][0]
    [room] = site["rooms"]
    assert room["room"] == "C1" and [r["rack"] for r in room["racks"]] == ["R2"]
    cells = room["racks"][0]["cells"]
    assert [(c["key"], c["row"], c["column"]) for c in cells] == [(keys[1], 1, 1), (keys[0], 2, 3)]
    assert len(site["unplaced"]) == len(keys) - 2
    assert checked(viewer.get("/api/v1/map?metric=colour"), "/map").status_code == 400


def test_the_map_redraws_itself_from_its_own_address_with_what_changed(viewer, state):
    html = viewer.get("/map?metric=temp").get_data(as_text=True)
    live = re.search(r'<div id="map-live" hx-get="([^"]+)" hx-select="#map-live" hx-target="this" '
                     r'hx-swap="outerHTML" hx-trigger="every 30s">', html)
    assert live and unescape(live[1]) == "/map?metric=temp"  # the metric picked stays picked
    rows = read_latest(state, "miners")
    key = rows["device"][0].as_py()
    assert "b-off" not in cells(html)[key][0]
    reachable = rows["reachable"].to_pylist()
    reachable[0] = False
    rows = rows.set_column(rows.schema.get_field_index("reachable"), "reachable", pa.array(reachable))
    write_table(rows, latest_path(state, "miners"), row_group_size=rows.num_rows)
    # What htmx asks every 30 s: the same page, of which it keeps #map-live.
    again = viewer.get(unescape(live[1]), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert cells(again)[key][0] == "cx b-off" and len(cells(again)) == len(cells(html))
