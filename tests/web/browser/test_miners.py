"""The Miners list and a miner's page in Chromium, against the real commander over simfarm: filter
and sort (the address keeps them, so the link reproduces the list), open a miner, its charts are
drawn with data, and both pages fit a 390 px phone, as does a rig's; screenshots in both themes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from appliance.store.jobs import store_cycle
from tests.conftest import wait_until
from tests.web.browser.conftest import MINERS, shoot
from tests.web.test_rigs import RIG, rig

ROWS = "#miners-table table.miners tbody tr"


def column(page, n: int) -> list[str]:
    return page.locator(f"{ROWS} td:nth-child({n})").all_inner_texts()


PREFIX = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def hashrates(page) -> list[float]:
    """The Hashrate column in H/s (the page writes "110 TH/s"; a dash, nothing reported, is -1)."""
    values = []
    for text in column(page, 8):
        found = re.fullmatch(r"([\d.]+) (\w?)H/s", text.strip())
        values.append(float(found[1]) * PREFIX[found[2]] if found else -1.0)
    return values


def open_list(page, stack) -> None:
    """The Miners page once the commander has polled the whole farm (its first cycle may come
    before discovery has found it)."""
    wait_until(lambda: page.request.get(f"{stack.url}/api/v1/miners").json()["total"] == MINERS,
               "the commander polling every miner", limit_s=60)
    page.goto(stack.url + "/miners")


def test_filter_and_sort_the_list_and_the_address_keeps_them(browser, stack):
    page = browser.sign_in("admin", stack.password)
    open_list(page, stack)
    assert page.locator(f"{ROWS} a").count() == MINERS

    make = page.locator("select[name=make] option").nth(1).inner_text()
    makes = [m["make"] for m in page.request.get(f"{stack.url}/api/v1/miners?per_page=1000").json()["items"]]
    page.select_option("select[name=make]", make)
    page.wait_for_url(re.compile(r"make="))
    page.wait_for_function(f"document.querySelectorAll('{ROWS} a').length === {makes.count(make)}")
    assert set(column(page, 6)) == {make}

    page.click("th >> text=Hashrate")
    page.wait_for_url(re.compile(r"sort=-hashrate_hs"))
    page.wait_for_selector("th[aria-sort=descending]")
    rates = hashrates(page)
    assert rates == sorted(rates, reverse=True) and len(rates) == makes.count(make)

    page.goto(page.url)  # the address alone reproduces the list
    assert set(column(page, 6)) == {make} and page.locator("th[aria-sort=descending]").inner_text().startswith("Hashrate")
    assert page.locator("select[name=make]").input_value() == make


def test_open_a_miner_and_its_charts_are_drawn(themed, stack):
    page = themed.sign_in("admin", stack.password)
    open_list(page, stack)
    shoot(page, "miners")
    first = page.locator(f"{ROWS} td:nth-child(2) a").first  # after the choose box, the address
    address = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/miners/[^?]+$"))
    assert address in page.locator("main").inner_text()
    page.wait_for_selector(".chart canvas")
    sizes = page.eval_on_selector_all(".chart canvas", "cs => cs.map(c => [c.width, c.height])")
    assert sizes and all(width > 0 and height > 0 for width, height in sizes)
    note = page.locator("[data-chart-note]").inner_text()
    assert int(note.split()[0]) >= 1, note  # points stored by the commander, drawn
    captions = page.locator(".chart figcaption").all_inner_texts()
    assert any(c.startswith("Hashrate") for c in captions) and any(c.startswith("Temperature") for c in captions)
    shoot(page, "miner")

    charts = page.locator(".chart").count()
    page.click("[data-range='3600']")  # the last hour: the charts are replaced, not added to
    expect(page.locator("[data-chart-note]")).not_to_have_text(re.compile("^Loading"))
    assert page.locator(".chart").count() == charts
    assert page.locator("[data-range='3600']").get_attribute("aria-pressed") == "true"


def test_the_list_and_a_miner_fit_a_phone(browser, stack):
    page = browser.sign_in("admin", stack.password)
    page.set_viewport_size({"width": 390, "height": 844})
    open_list(page, stack)
    page.wait_for_selector(f"{ROWS} a")
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0  # the table scrolls inside its .table-wrap, not the page
    page.locator(f"{ROWS} td:nth-child(2) a").first.click()
    page.wait_for_selector(".chart canvas")
    assert page.evaluate(overflow) <= 0
    widths = page.eval_on_selector_all(".chart", "cs => cs.map(c => c.getBoundingClientRect().right)")
    assert widths and max(widths) <= 390


def test_a_rig_page_draws_each_gpu_and_fits_a_phone(browser, stack):
    """The emulated farm has no rig: this one's readings are stored as the commander stores a
    sentry's, beside its cycles (its rigs table is the rig's alone)."""
    now = datetime.now(UTC)
    for n in range(3):
        store_cycle(stack.state, [], now - timedelta(seconds=30 * (3 - n)), rigs=[rig(n)])
    page = browser.sign_in("admin", stack.password)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{stack.url}/miners")
    page.click(f"a[href='/rigs/{RIG}']")
    page.wait_for_selector(".chart canvas")
    assert page.locator("table.gpus tbody tr").count() == 2
    legend = page.locator(".chart").first.inner_text()
    assert "0000:03:00.0" in legend and "0000:0b:00.0" in legend  # a line per GPU, by bus id
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
