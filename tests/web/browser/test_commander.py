"""The Commander and Discovery pages in the browser, against the running commander: the health the
commander writes; an admin creates an API token and sees it once; an operator scans part of the
farm's range, watches it finish, and adds an address the commander then holds."""

from __future__ import annotations

from appliance.inventory import read_devices
from tests.conftest import wait_until
from tests.web.browser.conftest import shoot


def test_the_commander_page_shows_the_health_and_makes_a_token_once(themed, stack):
    page = themed.sign_in("admin", stack.password)
    page.goto(f"{stack.url}/commander")
    assert page.locator("[data-verdict]").inner_text().startswith("commander running")
    name = f"grafana-{themed.context.scheme}"
    form = page.locator("form", has=page.locator("button", has_text="Create an API token"))
    form.locator("input[name=name]").fill(name)
    form.locator("button").click()
    shown = page.locator("[data-secret]").inner_text()
    assert shown.startswith(f"The API token of {name}: mw_")
    shoot(page, "commander")
    page.goto(f"{stack.url}/commander")
    assert page.locator("[data-secret]").count() == 0 and name in page.locator("[data-users]").inner_text()


def test_discovery_scans_and_adds(browser, stack):
    page = browser.sign_in("admin", stack.password)
    page.goto(f"{stack.url}/discovery")
    # One identified over its RPC port alone: the web scans as the commander does, but knows no
    # web port of simfarm's (a real miner's web UI is on 80).
    first = next(m["ip"] for m in stack.farm["miners"] if m.get("driver") in ("whatsminer", "avalon", "braiins"))
    page.fill("input[name=addresses]", first)
    page.click("button.primary")
    page.wait_for_selector("[data-finished]", timeout=60_000)
    row = page.locator("table[data-found] tr", has_text=first)
    assert "known" in row.inner_text()  # the commander discovered it already
    row.locator("input[type=checkbox]").check()
    page.fill("input[name=rack]", "C9/R01")
    page.click("text=Add the chosen to the inventory")
    shoot(page, "discovery")
    wait_until(lambda: any(d.ip == first and d.rack == "C9/R01" for d in read_devices(stack.state)),
               "the commander placing the added address", limit_s=30)
