"""The farm map in the browser, against the real commander polling simfarm: every miner is a
cell, a cell holds its figures and opens its miner."""

from __future__ import annotations

from urllib.parse import unquote

from appliance.store.latest import read_latest
from tests.conftest import wait_until
from tests.web.browser.conftest import shoot


def open_map(page, stack, query: str = "") -> None:
    """The map, once the commander has stored a cycle of every miner simfarm runs."""
    def complete() -> bool:
        page.goto(f"{stack.url}/map{query}")
        return page.locator("a.cell").count() == len(stack.farm["miners"])
    wait_until(complete, "every miner on the map", limit_s=30)


def test_the_map_shows_every_miner(themed, stack):
    page = themed.sign_in("admin", stack.password)
    open_map(page, stack, "?metric=temp")
    assert "°C" in page.locator("a.cell").first.get_attribute("title")
    shoot(page, "map")


def test_picking_a_metric_recolours_the_map(browser, stack):
    page = browser.sign_in("admin", stack.password)
    open_map(page, stack)
    with page.expect_navigation():
        page.select_option("select[name=metric]", "hashrate")
    assert page.url.endswith("/map?metric=hashrate")
    assert page.locator("a.cell.s-ok").count() == 0 and page.locator("a.cell.c0, a.cell.c1").count() > 0


def test_clicking_a_cell_opens_its_miner(browser, stack):
    page = browser.sign_in("admin", stack.password)
    open_map(page, stack)
    cell = page.locator("a.cell").first
    key = cell.get_attribute("data-key")
    assert key in read_latest(stack.state, "miners")["device"].to_pylist()
    opened = []
    # The link is what this test is about; the miner page has its own tests (test_miners.py).
    page.route(f"{stack.url}/miners/**", lambda route: (opened.append(route.request.url),
                                                         route.fulfill(status=200, body="the miner")))
    with page.expect_navigation():
        cell.click()
    assert [unquote(url) for url in opened] == [f"{stack.url}/miners/{key}"]
