"""``minerwatch poll`` and ``minerwatch scan`` as a user meets them: the real command, run as a process,
against an emulated farm over real sockets."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from appliance.cli import build_parser
from collectors.cli import progress_bar
from simfarm.farm import Farm
from tests.conftest import until
from tests.simfarm.conftest import free_base

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


def objects(done: subprocess.CompletedProcess) -> dict[str, dict]:
    """``--json`` output by target ("ip:port" as the snapshot says it answered)."""
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return {f"{o['ip']}:{o['port']}": o for o in map(json.loads, done.stdout.splitlines())}


async def test_a_target_given_with_its_port_is_identified_and_polled_there():
    farm = Farm(miners=2, mix={"antminer": 1, "goldshell": 1}, base=free_base(), seed=4, web_port=8081)
    rpc_miner = next(m for m in farm.miners.values() if m.driver == "antminer")
    rpc_miner.rpc_port = 4029  # its cgminer API moved off 4028, as a port forward or a firmware setting does
    web_miner = next(m for m in farm.miners.values() if m.driver == "goldshell")
    async with farm:
        done = await asyncio.to_thread(minerwatch, "poll", f"{rpc_miner.ip}:4029", f"{web_miner.ip}:8081",
                                       f"{web_miner.ip}:4029", "--json", "--all")
    polled = objects(done)
    assert polled[f"{rpc_miner.ip}:4029"]["make"] == "Bitmain", polled
    assert polled[f"{rpc_miner.ip}:4029"]["reachable"], polled[f"{rpc_miner.ip}:4029"]["error"]
    assert polled[f"{web_miner.ip}:8081"]["make"] == "Goldshell", polled
    assert polled[f"{web_miner.ip}:8081"]["reachable"], polled[f"{web_miner.ip}:8081"]["error"]
    wrong = polled[f"{web_miner.ip}:4029"]
    assert not wrong["reachable"] and wrong["error"] == f"{web_miner.ip}: nothing accepted a connection on port 4029 within 1 s"


@pytest.fixture
async def small_farm():
    """Four miners at the start of a /24 of their own, the third of them answering garbage."""
    async with Farm(miners=4, mix={"antminer": 1, "avalon": 1}, base=free_base(), seed=6, web_port=8080) as farm:
        await farm.inject(list(farm.miners)[2], "garbage")
        yield farm


async def test_poll_of_a_network_lists_what_answered_and_sums_up_the_silent(small_farm):
    ips = list(small_farm.miners)
    network = ips[0].rsplit(".", 1)[0] + ".0/24"
    common = (network, "--timeout", "3", "--web-port", "8080")
    table, every_row, as_json, every_object = await asyncio.gather(*(asyncio.to_thread(minerwatch, "poll", *args) for args in (
        common, (*common, "--all"), (*common, "--json"), (*common, "--json", "--all"))))
    for done in (table, every_row, as_json, every_object):
        assert done.returncode == 0 and done.stderr == "", done.stderr  # no progress bar but on a terminal

    lines = table.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:-2]] == ips
    assert "could not be identified" in lines[3], lines[3]  # the garbage one answered, badly
    assert lines[-2] == "3 of 4 miners answered"
    assert lines[-1] == ("250 of 254 addresses silent (nothing accepted a connection on port 4028, 4433 or 8080 "
                         "within 1 s); --all lists them")
    rows = every_row.stdout.splitlines()
    assert len(rows) == 1 + 254 + 2 and rows[-1].startswith("250 of 254 addresses silent (")
    silent_row = next(row for row in rows if row.startswith(f"{ips[0].rsplit('.', 1)[0]}.250 "))
    assert silent_row.endswith("nothing accepted a connection on port 4028, 4433 or 8080 within 1 s")

    answered = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [o["ip"] for o in answered] == ips
    assert [o["reachable"] for o in answered] == [True, True, False, True]
    everything = [json.loads(line) for line in every_object.stdout.splitlines()]
    assert len(everything) == 254
    assert [(o["ip"], o["reachable"]) for o in everything if o["ip"] in ips] == [
        (o["ip"], o["reachable"]) for o in answered]
    silent = [o for o in everything if o["ip"] not in ips]
    assert all(not o["reachable"] and o["error"] == f"{o['ip']}: nothing accepted a connection on port 4028, "
               "4433 or 8080 within 1 s" for o in silent), silent[0]


@pytest.mark.parametrize(("command", "last_request"), [("scan", "version"), ("poll", "summary")])
async def test_ctrl_c_prints_what_was_found_so_far_and_says_it_was_interrupted(command, last_request):
    async with Farm(miners=6, mix={"avalon": 1}, base=free_base(), seed=8, web_port=8080) as farm:
        *healthy, hung = farm.miners
        await farm.inject(hung, "hangs")
        served: dict[str, set[str]] = {ip: set() for ip in healthy}
        for ip in healthy:  # what each healthy miner was asked, to know when the command is done with it
            miner = farm.miners[ip]
            miner.rpc = lambda name, *rest, _ip=ip, _rpc=miner.rpc: served[_ip].add(name) or _rpc(name, *rest)
        network = healthy[0].rsplit(".", 1)[0] + ".0/22"  # 1,022 addresses, the miners in the first few
        # Two at a time: while one is stuck on the hung miner, the other takes the healthy ones in turn,
        # recording each before it asks the next; so once all were asked, all but two are recorded.
        process = subprocess.Popen([*CLI, command, network, "--json", "--timeout", "60", "--web-port", "8080",
                                    "--concurrency", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            await until(lambda: all(last_request in served[ip] for ip in healthy), f"{command} of the healthy miners")
            process.send_signal(signal.SIGINT)
            out, err = await asyncio.to_thread(process.communicate, timeout=30)
        finally:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    verb = {"scan": "scanned", "poll": "polled"}[command]
    assert re.fullmatch(rf"minerwatch: interrupted after [\d,]+ of 1,022 addresses; the rest were not {verb}\n", err), err
    found = [json.loads(line) for line in out.splitlines()]
    assert len(found) >= len(healthy) - 2 and {o["ip"] for o in found} <= set(healthy), found
    assert all(o.get("driver") == "avalon" or o.get("make") == "Canaan" for o in found), found


def test_progress_is_drawn_on_a_terminal_only():
    with progress_bar(3, "address", io.StringIO()) as progress:
        assert progress is None  # a file or a pipe gets the results alone
    controller, terminal = os.openpty()  # a terminal that reports no size, as under script(1)
    with open(terminal, "w") as stream:
        with progress_bar(3, "address", stream) as progress:
            assert progress is not None
            progress(3)
    drawn = os.read(controller, 65536).decode()
    os.close(controller)
    assert "0/3 [" in drawn and "address/s" in drawn, drawn


@pytest.mark.parametrize("command", ["poll", "scan"])
def test_help_explains_every_option(command):
    parser = build_parser()
    [subparsers] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    for action in subparsers.choices[command]._actions:
        assert action.help and len(action.help) > 20, action.option_strings or action.dest


async def test_a_refused_login_is_said_in_the_snapshot_and_the_poll_goes_on(tmp_path):
    credentials = tmp_path / "credentials.toml"
    credentials.write_text('[antminer]\nusername = "root"\npassword = "not-its-password"\n')
    credentials.chmod(0o600)
    async with Farm(miners=1, mix={"antminer": 1}, base=free_base(), seed=3, web_port=8080) as farm:
        [ip] = farm.miners
        args = ("poll", ip, "--web-port", "8080", "--credentials", str(credentials))
        table, as_json = await asyncio.gather(asyncio.to_thread(minerwatch, *args),
                                              asyncio.to_thread(minerwatch, *args, "--json"))
    [snapshot] = objects(as_json).values()
    sentence = f"{ip}:8080 refused the login for user root: mac, serial, hostname and firmware_version are unknown"
    assert snapshot["reachable"] and snapshot["hashrate_hs"] and snapshot["warnings"] == [sentence], snapshot
    assert f"warning: {sentence}" in table.stdout.splitlines(), table.stdout
