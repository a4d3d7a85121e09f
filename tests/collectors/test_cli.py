"""``minerwatch poll`` and ``minerwatch scan`` as a user meets them: the real command, run as a process,
against an emulated farm over real sockets."""

from __future__ import annotations

import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "appliance.cli"]


def minerwatch(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.parametrize(("option", "sentence"), [
    (["--timeout", "0"], "argument --timeout: 0 is not a time limit: give a number of seconds above 0"),
    (["--timeout", "-1"], "argument --timeout: -1 is not a time limit: give a number of seconds above 0"),
    (["--concurrency", "0"], "argument --concurrency: 0 is not a number of devices at once: give 1 or more"),
])
@pytest.mark.parametrize("command", ["poll", "scan"])
def test_a_limit_that_would_fail_every_device_is_refused(command, option, sentence):
    done = minerwatch(command, "127.0.0.1", *option)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == f"minerwatch {command}: error: {sentence}"
