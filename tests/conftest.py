"""Shared test set-up: where the third-party captures live, the CI rule for missing tools, waiting
on a condition, and a real HTTP receiver (webhooks, heartbeats)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_fixtures() -> Path:
    """../shared/fixtures beside the repository (CI lays it there), or MINERWATCH_SHARED_FIXTURES."""
    return Path(os.environ.get("MINERWATCH_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))


def require(condition: bool, what: str) -> None:
    """Skip when something the test needs is absent here; in CI (CI=true) that is a failure."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing, and CI must run this test")
    pytest.skip(f"{what} is missing")


async def until(condition: Callable[[], bool], what: str, limit_s: float = 20.0) -> None:
    """Wait for ``condition``; the limit only turns a hang into a failure, it measures nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {limit_s:g} s")
        await asyncio.sleep(0.01)


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    """``until`` for tests that drive a process from outside an event loop."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit_s:g} s")
        time.sleep(0.02)


# --- the sample configurations ---------------------------------------------------------------------

def uncommented(sample: str) -> str:
    """Every key and header a sample configuration shows commented out ("# key = ..."), made live,
    with the lines that carry on a multi-line array ("#     "b", "c"]")."""
    live = re.sub(r"(?m)^(\s*)# (\[|[A-Za-z_][A-Za-z0-9_.-]* = )", r"\1\2", sample)
    return re.sub(r'(?m)^(\s*)#(\s+")', r"\1\2", live)


# --- an HTTP receiver ------------------------------------------------------------------------------

@dataclass
class Receiver:
    """Records every request; answers ``fail_status`` to the first ``fail_first`` of them, and to every
    request for a path in ``down_paths``."""

    fail_first: int = 0
    fail_status: int = 503
    down_paths: set[str] = field(default_factory=set)
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["status"] < 300]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            failing = len(receiver.requests) < receiver.fail_first or self.path in receiver.down_paths
            status = receiver.fail_status if failing else 200
            receiver.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "json": json.loads(body) if body else None, "status": status})
            reply = json.dumps({"ok": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            """Quiet: the test reads ``receiver.requests``."""

    return Handler


@pytest.fixture
def receiver():
    box = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()
