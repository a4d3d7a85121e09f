"""The frame every page shares, in the browser: sign in, the menu reaches every page, the theme
follows the browser and the toggle overrides it (and is remembered), sign out."""

from __future__ import annotations

from tests.web.browser.conftest import shoot

PAGES = ["/", "/map", "/miners", "/alerts", "/discovery", "/commander"]


def test_every_page_opens_in_both_themes_without_errors(themed, stack):
    page = themed.sign_in("admin", stack.password)
    for path in PAGES:
        page.goto(stack.url + path)
        assert page.locator("header.top nav a[aria-current=page]").count() == 1
        name = path.strip("/") or "dashboard"
        shoot(page, name)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(22, 24, 29)") == (themed.context.scheme == "dark")


def test_the_theme_toggle_overrides_the_browser_and_is_remembered(browser, stack):
    page = browser.sign_in("admin", stack.password)
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.click("[data-theme-toggle]")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light != dark
    page.goto(stack.url + "/miners")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == dark


def test_sign_out_ends_the_session(browser, stack):
    page = browser.sign_in("admin", stack.password)
    page.click("header.top button[type=submit]")
    page.wait_for_url(f"{stack.url}/login")
    page.goto(stack.url + "/miners")
    assert page.url.startswith(f"{stack.url}/login")
