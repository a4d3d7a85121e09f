"""Alerts in the browser, against the real commander polling simfarm: a miner made to overheat
fires; an operator (the admin here) acknowledges it on the page, the running commander applies it
within seconds, and the page shows who acknowledged it."""

from __future__ import annotations

import httpx

from tests.conftest import wait_until
from tests.web.browser.conftest import shoot


def test_acknowledge_a_firing_alert(themed, stack):
    hot = stack.farm["miners"][-1]["ip"]
    httpx.post(f"{stack.control}/faults", json={"ip": hot, "fault": "overheating"}, timeout=10).raise_for_status()
    page = themed.sign_in("admin", stack.password)

    def firing_here() -> bool:
        page.goto(f"{stack.url}/alerts?rule=temp_chip")
        return page.locator(f'tr[data-alert^="{hot}/temp_chip/"]').count() > 0

    wait_until(firing_here, "the overheating miner's alert on the page", limit_s=60)
    row = page.locator(f'tr[data-alert^="{hot}/temp_chip/"]').first
    alert = row.get_attribute("data-alert")
    if row.locator("[data-ack]").count():  # the other theme's run acknowledged it already
        row.locator("[data-ack]").click()
        page.wait_for_url(f"{stack.url}/alerts?change=*")
        assert "Recorded" in page.locator(".notice").inner_text() or "applied" in page.locator(".notice").inner_text()

    def acknowledged() -> bool:
        page.goto(f"{stack.url}/alerts?rule=temp_chip")
        return page.locator(f'tr[data-alert="{alert}"] [data-acked]').count() == 1

    wait_until(acknowledged, "the commander applying the acknowledgement", limit_s=30)
    assert page.locator(f'tr[data-alert="{alert}"] [data-acked]').inner_text() == "acknowledged by admin"
    shoot(page, "alerts")
