"""The Discovery page against an emulated farm over real sockets: an operator scans a range, sees
what answered (new or already known), and adds the chosen addresses at a site, rack and tags,
which the commander's intake puts in the inventory; what may not be scanned is refused."""

from __future__ import annotations

from appliance.inventory import Inventory
from simfarm.farm import Farm
from tests.conftest import until
from tests.simfarm.conftest import free_base
from tests.web.conftest import csrf_token
from tests.web.test_alerts_page import apply_changes


async def test_scan_review_and_add(signed_in, state):
    operator = signed_in("operator")
    page = operator.get("/discovery").get_data(as_text=True)
    token = csrf_token(page)
    async with Farm(miners=3, mix={"whatsminer": 1, "avalon": 1}, base=free_base(), seed=41, web_port=8080) as farm:
        ips = list(farm.miners)
        answer = operator.post("/discovery/scan", data={"addresses": f"{ips[0]}-{ips[-1]}", "csrf_token": token})
        assert answer.status_code == 302
        again = operator.post("/discovery/scan", data={"addresses": ips[0], "csrf_token": token})
        assert again.status_code in (302, 400)  # refused while the first runs, unless it ended already
        await until(lambda: "data-finished" in operator.get("/discovery/progress").get_data(as_text=True),
                    "the scan finishing", limit_s=60)
    found = operator.get("/discovery/progress").get_data(as_text=True)
    assert "3 answered of 3 addresses" in found and found.count("new</td>") == 3
    added = operator.post("/discovery/add", data={"ip": ips[:2], "site": "default", "rack": "C2/R07",
                                                  "tags": "new, row-3", "csrf_token": token})
    assert added.status_code == 302
    apply_changes(state)
    assert "The commander applied it: 2 device(s) in the inventory at default" in operator.get(
        added.location).get_data(as_text=True)
    with Inventory.open(state) as inventory:
        devices = {d.ip: d for d in inventory.devices()}
    assert all((devices[ip].rack, devices[ip].tags, devices[ip].site) == ("C2/R07", ("new", "row-3"), "default")
               and devices[ip].driver in ("whatsminer", "avalon") for ip in ips[:2])
    assert ips[2] not in devices


def test_what_may_not_be_scanned_is_refused_in_one_sentence(signed_in):
    operator, viewer = signed_in("operator"), signed_in("viewer")
    token = csrf_token(operator.get("/discovery").get_data(as_text=True))
    for typed, said in (("/etc/passwd", "give addresses, ranges"), ("10.0.0.0/15", "at most 65,536"), ("10.0.0.0/8", "narrow the targets"),
                        ("", "give addresses")):
        answer = operator.post("/discovery/scan", data={"addresses": typed, "csrf_token": token})
        assert answer.status_code == 400 and said in answer.get_data(as_text=True)
    assert operator.post("/discovery/scan", data={"addresses": "10.0.0.1"}).status_code == 400  # no CSRF token
    assert viewer.get("/discovery").status_code == 403
