"""The dashboard in the browser, against the real commander polling simfarm: the farm's hashrate
is what the miners reported, the chart is drawn, the figures refresh without a reload."""

from __future__ import annotations

import re

import pyarrow.compute as pc

from appliance.store.latest import read_latest
from collectors import algorithms
from tests.conftest import wait_until
from tests.web.browser.conftest import shoot

UNITS = {"H/s": 1, "kH/s": 1e3, "MH/s": 1e6, "GH/s": 1e9, "TH/s": 1e12, "PH/s": 1e15, "EH/s": 1e18}


def reported(state) -> dict[str, float]:
    """The hashrate of the miners that answered, per algorithm, from the commander's latest rows."""
    rows = read_latest(state, "miners")
    rows = rows.filter(pc.fill_null(rows["reachable"], False))
    totals: dict[str, float] = {}
    for name, hashrate in zip(rows["algorithm"].to_pylist(), rows["hashrate_hs"].to_pylist(), strict=True):
        if (canonical := algorithms.canonical(name)) is not None and hashrate is not None:
            totals[canonical] = totals.get(canonical, 0.0) + hashrate
    return totals


def shown(page) -> dict[str, float]:
    """Each algorithm's hashrate as the page shows it, read back from its text (TH/s and all)."""
    found = {}
    for card in page.locator(".algorithm").all():
        value, unit = re.fullmatch(r"([\d.]+) (\S+)", card.locator(".figure").inner_text().strip()).groups()
        found[card.get_attribute("data-algorithm")] = float(value) * UNITS[unit]
    return found


def test_the_farm_hashrate_is_what_the_miners_report(browser, stack):
    page = browser.sign_in("admin", stack.password)
    page.wait_for_selector(".algorithm .figure")

    def agrees() -> bool:
        # The commander polls every 3 s: the page must agree with the rows of the cycle before or after it.
        before = reported(stack.state)
        page.reload()
        on_page = shown(page)
        after = reported(stack.state)
        return any(on_page.keys() == rows.keys() and all(
            abs(on_page[name] - rows[name]) <= 0.006 * rows[name] for name in rows) for rows in (before, after))

    wait_until(agrees, "the dashboard showing the hashrate the commander's latest rows hold", limit_s=30)
    assert shown(page), "no algorithm on the dashboard"


def test_the_chart_is_drawn_and_the_figures_refresh_without_a_reload(themed, stack):
    page = themed.sign_in("admin", stack.password)
    canvas = page.wait_for_selector(".farm-chart canvas", timeout=20_000)
    box = canvas.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    with page.expect_response(lambda r: r.url.endswith("/dashboard/live") and r.status == 200, timeout=20_000):
        pass  # htmx asks again every 10 s
    page.wait_for_selector("[data-status=offline]")
    shoot(page, "dashboard")


def test_the_dashboard_fits_a_phone(browser, stack):
    page = browser.sign_in("admin", stack.password)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_selector(".farm-chart canvas", timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
