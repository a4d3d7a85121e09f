"""End-to-end in real headless Chromium (Debian's ``chromium``, driven by Playwright) against the
real processes: ``python -m simfarm``, ``minerwatch serve`` polling it every few seconds and
``minerwatch web``, all on loopback.

Every page a test opens is watched: a JavaScript error or a console error fails the test, and so
does any request that leaves the web's origin (it is aborted, never sent: the appliance may be
air-gapped). ``shoot(page, name)`` saves the page under ``build/screenshots/`` in the theme the
context was opened in.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.appliance.test_commander import write_config
from tests.conftest import wait_until
from tests.simfarm.conftest import free_base
from tests.web.test_web_process import answers, free_port

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"
# VERIFIED.md's flags; the resolver rule makes any name but loopback unresolvable, so nothing can
# leave the machine even if a request slipped past the route below.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
MINERS = 12


@dataclass
class Stack:
    url: str
    state: Path
    farm: dict  # simfarm's inventory file
    control: str  # simfarm's control API
    password: str  # the generated admin password
    processes: list[subprocess.Popen] = field(default_factory=list)


def _control_url(log: Path) -> str:
    for line in log.read_text().splitlines():
        if "control http://" in line:
            return line.split("control ", 1)[1].split()[0]
    raise AssertionError(f"simfarm printed no control address:\n{log.read_text()}")


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: scripts/setup-system installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    root = tmp_path_factory.mktemp("stack")
    base, port = free_base(), free_port()
    inventory = root / "farm.json"
    farm_log = root / "simfarm.log"
    processes = []

    def start(argv: list[str], log: Path) -> subprocess.Popen:
        process = subprocess.Popen(argv, stdout=log.open("w"), stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        start([sys.executable, "-m", "simfarm", "--miners", str(MINERS), "--base", base, "--seed", "31",
               "--web-port", str(free_port()), "--inventory", str(inventory)], farm_log)
        wait_until(inventory.exists, "simfarm writing its inventory")
        farm = json.loads(inventory.read_text())
        last = farm["miners"][-1]["ip"]
        config = write_config(root, f"{base}-{last}", poll_s=3, discovery_s=3600, timeout_s=2.0,
                              extra=f'[web]\nlisten = "127.0.0.1:{port}"\n')
        minerwatch = [sys.executable, "-m", "appliance.cli"]
        start([*minerwatch, "serve", "--config", str(config), "--web-port", str(farm["web_port"])], root / "serve.log")
        start([*minerwatch, "web", "--config", str(config)], root / "web.log")
        url = f"http://127.0.0.1:{port}"
        state = root / "state"
        wait_until(lambda: answers(f"{url}/healthz") and httpx.get(f"{url}/healthz").status_code == 200,
                   "the commander's first cycle and the web answering", limit_s=60)
        yield Stack(url, state, farm, _control_url(farm_log),
                    (state / "web" / "initial-admin-password").read_text().strip(), processes)
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in sorted(root.glob("*.log")):
            if "Traceback" in log.read_text():
                pytest.fail(f"{log.name} holds a traceback:\n{log.read_text()[-3000:]}")


# Package scope: Playwright's sync API keeps an event loop running while it lives, which the
# asyncio tests after this package must not find.
@pytest.fixture(scope="package")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Watched:
    """A browser context on the stack, with what went wrong on its pages collected."""

    def __init__(self, context, origin: str) -> None:
        self.context, self.origin = context, origin
        self.errors: list[str] = []
        self.left_origin: list[str] = []
        context.route("**/*", self._route)
        context.on("page", self._watch)

    def _route(self, route) -> None:
        if route.request.url.startswith(self.origin + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.left_origin.append(route.request.url)
            route.abort()

    def _watch(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"))

    def page(self):
        return self.context.new_page()

    def sign_in(self, name: str, password: str):
        page = self.page()
        page.goto(f"{self.origin}/login")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.origin}/")
        return page


@pytest.fixture(params=["light", "dark"])
def theme(request) -> str:
    return request.param


@pytest.fixture
def browser(chromium, stack) -> Iterator[Watched]:
    """A fresh context (no cookies) in the light theme; ``browser_in(theme)`` for another."""
    yield from _context(chromium, stack, "light")


@pytest.fixture
def themed(chromium, stack, theme) -> Iterator[Watched]:
    """The same, once in the light theme and once in the dark (the test runs twice)."""
    yield from _context(chromium, stack, theme)


def _context(chromium, stack: Stack, scheme: str) -> Iterator[Watched]:
    context = chromium.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    context.scheme = scheme
    watched = Watched(context, stack.url)
    try:
        yield watched
        assert watched.errors == [], "JavaScript errors:\n" + "\n".join(watched.errors)
        assert watched.left_origin == [], f"requests that left the appliance's origin: {watched.left_origin}"
    finally:
        context.close()


def shoot(page, name: str) -> Path:
    """Save a screenshot of the whole page as build/screenshots/NAME-THEME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.context.scheme}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
