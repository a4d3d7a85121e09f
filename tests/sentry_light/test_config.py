"""The sentry's TOML: defaults, the sample in packaging/ parses, and every mistake is one sentence with
the file, the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentry_light.config import DEFAULT_SNAPSHOT, ConfigError, ProgramTarget, SentryConfig, load, parse
from sentry_light.sources.programs import PROGRAMS
from tests.conftest import REPO


def test_defaults_look_for_every_program_on_its_port():
    config = parse("")
    assert config == SentryConfig()
    assert (config.interval_s, config.timeout_s, config.snapshot_path) == (15.0, 3.0, DEFAULT_SNAPSHOT)
    assert [(t.name, t.host, t.port) for t in config.programs] == [
        (name, "127.0.0.1", p.default_port) for name, p in PROGRAMS.items()]


def test_a_full_file():
    config = parse("""
interval_s = 30
timeout_s = 2.5
snapshot_path = "/tmp/rig.json"
sysfs_root = "/tmp/sys"

[programs]
host = "127.0.0.2"
look_for = ["trex", "xmrig"]

[programs.ports]
xmrig = 18000
""")
    assert (config.interval_s, config.timeout_s, config.snapshot_path, config.sysfs_root) == (
        30.0, 2.5, Path("/tmp/rig.json"), Path("/tmp/sys"))
    assert config.programs == (ProgramTarget("trex", "127.0.0.2", 4067), ProgramTarget("xmrig", "127.0.0.2", 18000))


def test_the_packaged_sample_is_the_defaults():
    assert load(REPO / "packaging" / "sentry.toml") == SentryConfig()


@pytest.mark.parametrize("text, sentence", [
    ("interval_s = 15\nintervall = 10\n", "sentry.toml, line 2: unknown key intervall"),
    ("[programs]\nhost = '127.0.0.1'\nlookfor = ['trex']\n", "sentry.toml, line 3: unknown key programs.lookfor"),
    ("[programs]\nlook_for = ['t-rex']\n", "sentry.toml, line 2: 't-rex' is not a program the sentry knows"),
    ("[programs.ports]\n\ntrex = 'x'\n", "sentry.toml, line 3: programs.ports.trex must be a port number"),
    ("interval_s = 0\n", "sentry.toml, line 1: interval_s must be a positive number of seconds"),
    ("interval_s = 5\ntimeout_s = 5\n", "sentry.toml, line 2: timeout_s (5) must be shorter than interval_s (5)"),
    ("interval_s = [\n", "sentry.toml is not valid TOML"),
])
def test_mistakes_name_the_key_and_line(text, sentence):
    with pytest.raises(ConfigError) as error:
        parse(text)
    assert str(error.value).startswith(sentence)
    assert "\n" not in str(error.value)


def test_a_missing_file_given_explicitly_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=f"Cannot read the sentry configuration {tmp_path / 'nope.toml'}"):
        load(tmp_path / "nope.toml")
