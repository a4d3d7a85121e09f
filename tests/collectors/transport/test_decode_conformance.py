"""The decoder on the real captures in the shared fixtures folder (not vendored: see SOURCES.md).

The folder is ``shared/fixtures`` beside the repository, or $MINERWATCH_SHARED_FIXTURES.
Where it is absent the tests skip, except under CI=true, where they fail.
"""

import json
import os
from pathlib import Path

import pytest

from collectors.transport.decode import decode
from tests.conftest import require

FIXTURES = Path(os.environ.get("MINERWATCH_SHARED_FIXTURES")
                or Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures") / "asic"

# The foreman-apps captures: real replies, malformed as the devices sent them. The other
# .txt files are pyasic's Python literals, not wire bytes, so they are not decoded here.
FOREMAN = ["antminer_l3plus_stats.txt", "antminer_s9_stats.txt",
           "avalon_a10xx_pools+summary+stats.txt", "whatsminer_m20s_summary.txt"]
JSON_FILES = sorted(p.name for p in FIXTURES.glob("*.json")) or ["(no fixtures folder)"]


def capture(name: str) -> bytes:
    path = FIXTURES / name
    require(path.is_file(), f"the shared fixture {path}")
    return path.read_bytes()


@pytest.mark.parametrize("name", JSON_FILES)
def test_valid_captures_decode_as_json(name):
    raw = capture(name)
    assert decode(raw, name) == json.loads(raw, parse_constant=lambda _: None)


def test_l3plus_stats_records_printed_back_to_back():
    stats = decode(capture("antminer_l3plus_stats.txt"), "l3+")["STATS"]
    assert len(stats) == 2
    assert stats[0]["Type"] == "Antminer L3+"
    assert stats[1]["GHS 5s"] == "504.56"
    assert stats[1]["chain_rate4"] == "126.59"


def test_s9_stats_records_printed_back_to_back():
    stats = decode(capture("antminer_s9_stats.txt"), "s9")["STATS"]
    assert len(stats) == 2
    assert stats[0]["Type"] == "Antminer S9\nV1.3.58"
    assert stats[1]["GHS 5s"] == "13883.81"
    assert stats[1]["temp2_7"] == -83


def test_avalon_multi_reply_with_bare_nan_and_stray_quote():
    reply = decode(capture("avalon_a10xx_pools+summary+stats.txt"), "avalon")
    assert set(reply) == {"summary", "stats", "pools", "id"}
    summary = reply["summary"][0]["SUMMARY"][0]
    assert summary["MHS av"] is None
    assert summary["Accepted"] == 6
    assert reply["stats"][0]["STATS"][0]["ID"] == "AVA100"


def test_whatsminer_summary_with_invalid_escape():
    summary = decode(capture("whatsminer_m20s_summary.txt"), "m20s")["SUMMARY"][0]
    assert summary["Firmware Version"] == "'20200917.22.REL'"
    assert summary["MAC"] == "C4:11:04:01:3C:75"


def test_whatsminer_v3_device_info():
    reply = decode(capture("whatsminer_m60s_get.device.info_with_errors.json"), "m60s")
    assert reply["code"] == 0
    assert reply["msg"]["miner"]["type"] == "M60S_VK40"
    assert len(reply["msg"]["error-code"]) == 5
