"""The Alerts page over a state a real commander left (an overheating miner, its alerts firing):
what it lists and filters, and what an operator does to an alert, recorded for the commander and
applied by its intake, with the attacks refused (no CSRF token, a viewer's post)."""

from __future__ import annotations

import json
import time

from appliance.alerts.engine import AlertEngine, read_alerts
from appliance.alerts.settings import AlertSettings
from appliance.inventory import Inventory
from appliance.intake import Intake, handlers
from tests.web.conftest import checked, csrf_token
from web.users import Users


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


def test_the_api_silences_and_gives_the_history(app, state):
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {Users(state).create_token('noc', 'operator')}"}
    alert = next(a.id for a in read_alerts(state) if a.state == "firing")
    url = f"/api/v1/alerts/{alert}/silence"
    refused = checked(client.post(url, json={"seconds": 5, "reason": "x"}, headers=bearer),
                      "/alerts/{id}/silence", "post")
    assert refused.status_code == 400
    recorded = checked(client.post(url, json={"seconds": 3600, "reason": "fans on order"}, headers=bearer),
                       "/alerts/{id}/silence", "post")
    assert recorded.status_code == 202
    apply_changes(state)
    outcome = client.get(f"/api/v1/changes/{recorded.get_json()['change']}", headers=bearer).get_json()["outcome"]
    assert (outcome["outcome"], outcome["by"]) == ("applied", "token:noc")
    history = checked(client.get("/api/v1/alerts/history?since=0", headers=bearer), "/alerts/history").get_json()
    assert [(e["event"], e["by"], e.get("reason")) for e in history["items"]][-1] == (
        "silenced", "token:noc", "fans on order")
    assert {e["event"] for e in history["items"]} >= {"fired", "silenced"}
    unsilenced = client.post(f"/api/v1/alerts/{alert}/unsilence", headers=bearer)
    assert checked(unsilenced, "/alerts/{id}/unsilence", "post").status_code == 202
