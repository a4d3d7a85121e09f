"""The sentry's TOML: defaults, the sample in packaging/ parses, and every mistake is one sentence with
the file, the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentry_light.config import DEFAULT_SNAPSHOT, ConfigError, ProgramTarget, SentryConfig, load, parse
from sentry_light.sources.programs import PROGRAMS
from tests.conftest import REPO, uncommented


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
hostname = "rig-07"

[programs]
host = "127.0.0.2"
look_for = ["trex", "xmrig"]

[programs.ports]
xmrig = 18000
""")
    assert (config.interval_s, config.timeout_s, config.snapshot_path, config.sysfs_root, config.hostname) == (
        30.0, 2.5, Path("/tmp/rig.json"), Path("/tmp/sys"), "rig-07")
    assert config.programs == (ProgramTarget("trex", "127.0.0.2", 4067), ProgramTarget("xmrig", "127.0.0.2", 18000))


def test_the_packaged_sample_is_the_defaults():
    assert load(REPO / "packaging" / "sentry.toml") == SentryConfig()


@pytest.mark.parametrize("text, sentence", [
    ("interval_s = 15\nintervall = 10\n", "sentry.toml:2: unknown key 'intervall' in sentry.toml (did you mean "
                                         "'interval_s'?)"),
    ("[programs]\nhost = '127.0.0.1'\nlookfor = ['trex']\n",
     "sentry.toml:3: unknown key 'lookfor' in [programs] (did you mean 'look_for'?)"),
    ("[programs]\nlook_for = ['t-rex']\n", "sentry.toml:2: 't-rex' is not a program the sentry knows (did you mean "
                                            "'trex'?); it knows xmrig, trex, "),
    ("[programs.ports]\n\ntrex = 'x'\n", "sentry.toml:3: 'trex' in [programs.ports] must be a port number, 1 to 65535"),
    ("[programs.ports]\ntrexx = 4067\n",
     "sentry.toml:2: unknown key 'trexx' in [programs.ports] (did you mean 'trex'?)"),
    ("interval_s = 0\n", "sentry.toml:1: 'interval_s' in sentry.toml must be a positive number of seconds"),
    ("interval_s = 5\ntimeout_s = 5\n", "sentry.toml:2: timeout_s (5) must be shorter than interval_s (5)"),
    ("snapshot_path = 'rig.json'\n", "sentry.toml:1: 'snapshot_path' in sentry.toml must be an absolute path"),
    ("hostname = 'rig 7'\n", "sentry.toml:1: 'hostname' in sentry.toml must be a name of letters, digits"),
    ("interval_s = [\n", "sentry.toml:1: "),
])
def test_mistakes_name_the_key_and_line(text, sentence):
    with pytest.raises(ConfigError) as error:
        parse(text)
    assert str(error.value).startswith(sentence)
    assert "\n" not in str(error.value)


def test_every_mistake_is_reported_with_its_line(tmp_path):
    path = tmp_path / "sentry.toml"
    path.write_text("interval_s = 0\nsnapshot = '/tmp/rig.json'\n\n[programs]\nhost = 'rig 1'\n"
                    "look_for = ['xmrig', 'tre']\n\n[programs.ports]\nxmrig = 0\n")
    with pytest.raises(ConfigError) as error:
        load(path)
    assert [(p.file, p.line) for p in error.value.problems] == [(path, n) for n in (1, 2, 5, 6, 9)]
    assert str(error.value).splitlines()[1] == (f"{path}:2: unknown key 'snapshot' in sentry.toml (did you mean "
                                                "'snapshot_path'?)")


def test_every_key_the_sample_shows_is_valid_and_shows_its_default(tmp_path):
    text = uncommented((REPO / "packaging" / "sentry.toml").read_text())
    assert "\ninterval_s = 15" in text and "\nxmrig = 44444" in text  # the rewrite did its job
    path = tmp_path / "sentry.toml"
    path.write_text(text)
    config = load(path)
    assert (config.interval_s, config.timeout_s, config.snapshot_path) == (15.0, 3.0, DEFAULT_SNAPSHOT)
    assert {target.name for target in config.programs} == set(PROGRAMS)


def test_a_missing_file_given_explicitly_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path / "nope.toml")
    assert str(error.value) == f"{tmp_path / 'nope.toml'}: cannot read it: No such file or directory"
