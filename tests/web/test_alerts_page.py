"""The Alerts page over a state a real commander left (an overheating miner, its alerts firing):
what it lists and filters, and what an operator does to an alert, recorded for the commander and
applied by its intake, with the attacks refused (no CSRF token, a viewer's post)."""

from __future__ import annotations

import json
import time

from appliance.alerts.engine import AlertEngine
from appliance.alerts.settings import AlertSettings
from appliance.inventory import Inventory
from appliance.intake import Intake, handlers
from tests.web.conftest import csrf_token


def firing_id(page: str) -> str:
    return page.split('data-alert="', 1)[1].split('"', 1)[0]


def apply_changes(state) -> None:
    """What the commander's intake job does on its next run."""
    engine = AlertEngine(AlertSettings.from_mapping({}, "test").rules, state / "alerts.json")
    with Inventory.open(state) as inventory:
        Intake(state, handlers(engine, lambda: inventory)).apply_new(time.time())


def test_a_viewer_sees_what_fires_and_the_day_without_the_buttons(signed_in):
    page = signed_in("viewer").get("/alerts").get_data(as_text=True)
    assert "chip temperature high" in page and "The last day" in page and "fired" in page
    assert "data-ack" not in page and 'action="/alerts/silence"' not in page


def test_an_operator_acknowledges_and_the_commander_applies_it(signed_in, state):
    operator = signed_in("operator")
    page = operator.get("/alerts").get_data(as_text=True)
    alert = firing_id(page)
    answer = operator.post("/alerts/ack", data={"alert": alert, "csrf_token": csrf_token(page)})
    assert answer.status_code == 302 and answer.location.startswith("/alerts?change=")
    waiting = operator.get(answer.location).get_data(as_text=True)
    assert "the commander applies it within seconds" in waiting
    apply_changes(state)
    done = operator.get(answer.location).get_data(as_text=True)
    assert f"The commander applied it: alert {alert} acknowledged." in done
    assert "acknowledged by olga" in done
    audit = [json.loads(line) for line in (state / "web" / "audit.jsonl").read_text().splitlines()]
    assert (audit[-1]["who"], audit[-1]["what"], audit[-1]["alert"]) == ("olga", "alert_ack", alert)


def test_a_silence_needs_a_reason_and_ends_on_request(signed_in, state):
    operator = signed_in("operator")
    page = operator.get("/alerts").get_data(as_text=True)
    alert, token = firing_id(page), csrf_token(page)
    assert operator.post("/alerts/silence", data={"alert": alert, "for": "1 hour", "reason": " ",
                                                  "csrf_token": token}).status_code == 400
    assert operator.post("/alerts/silence", data={"alert": alert, "for": "forever", "reason": "x",
                                                  "csrf_token": token}).status_code == 400
    answer = operator.post("/alerts/silence", data={"alert": alert, "for": "4 hours", "reason": "fans on order",
                                                    "csrf_token": token})
    apply_changes(state)
    page = operator.get(answer.location).get_data(as_text=True)
    assert "silenced by olga until" in page and "fans on order" in page
    assert operator.post("/alerts/unsilence", data={"alert": alert, "csrf_token": token}).status_code == 302
    apply_changes(state)
    assert "silenced by olga" not in operator.get("/alerts").get_data(as_text=True)


def test_the_attacks_are_refused(signed_in, state):
    viewer, operator = signed_in("viewer"), signed_in("operator")
    page = operator.get("/alerts").get_data(as_text=True)
    alert = firing_id(page)
    assert operator.post("/alerts/ack", data={"alert": alert}).status_code == 400  # no CSRF token
    assert viewer.post("/alerts/ack", data={"alert": alert,
                                            "csrf_token": csrf_token(viewer.get("/alerts").get_data(as_text=True))}
                       ).status_code == 403
    assert not (state / "web" / "changes.jsonl").exists()


def test_filters_keep_what_they_name(signed_in):
    viewer = signed_in("viewer")
    assert "chip temperature high" not in viewer.get("/alerts?severity=warning").get_data(as_text=True).split(
        "The last day")[0]
    assert "chip temperature high" in viewer.get("/alerts?rule=temp_chip").get_data(as_text=True)
    assert viewer.get("/alerts?rule=nonsense").status_code == 400
    live = viewer.get("/alerts/live?rule=temp_chip").get_data(as_text=True)
    assert "chip temperature high" in live and "<html" not in live
