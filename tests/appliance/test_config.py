"""commander.toml: every kind of mistake names its line; a good file loads into the dataclasses."""

from __future__ import annotations

import argparse
import os
import re
import socket
import textwrap
from pathlib import Path

import pytest

from appliance import config, config_cli
from appliance.alerts.settings import AlertSettings
from appliance.config import (
    AsicSentry, Config, Credential, Discovery, Intervals, Miner, Problem, Sentry, Site, Subnet, Web, WebUser,
)
from appliance.store.settings import StorageSettings
from collectors.credentials import Credentials
from tests.conftest import uncommented

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "packaging" / "commander.toml"

SECRETS = """\
[credentials.antminer]
password = "s3cret-antminer"

[snmp]
community = "s3cret-community"

[snmp.users.monitor]
auth_password = "s3cret-auth"
priv_password = "s3cret-priv"
"""


def write(tmp_path: Path, text: str, secrets: str | None = None, mode: int = 0o600) -> Path:
    """commander.toml (and secrets.toml beside it, when given) in tmp_path."""
    path = tmp_path / "commander.toml"
    path.write_text(textwrap.dedent(text))
    if secrets is not None:
        secret_path = tmp_path / "secrets.toml"
        secret_path.write_text(textwrap.dedent(secrets))
        secret_path.chmod(mode)
    return path


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# --- a good file ---------------------------------------------------------------------------------

GOOD = """\
[commander]
state_dir = "/srv/minerwatch"
site = "yard"

[[sites]]
name = "north"
subnets = ["10.0.3.0/24", "10.0.4.1-10.0.4.200"]
racks = ["A1", "A2"]

[[sites]]
name = "south"
subnets = ["10.1.0.0/16"]

[discovery]
concurrency = 50
timeout_s = 2.5

[[miners]]
ip = "10.0.3.15"
driver = "antminer"
rack = "A1"
tags = ["immersion"]

[[miners]]
ip = "192.168.7.2:4029"
site = "south"
location = "container 2"

[credentials.antminer]
username = "admin"

[[sentries]]
host = "10.1.5.11"

[[sentries]]
host = "rig-12.farm.lan"
port = 1161
version = "v3"
user = "monitor"
auth_protocol = "sha-256"
priv_protocol = "AES"
rack = "B"

[intervals]
poll_s = 15
discovery_s = 0

[storage]
raw_days = 7

[alerts.rules.temp_chip]
threshold = 85

[[channels]]
name = "ops"
type = "webhook"
url = "https://alerts.example/hook"

[[channels]]
name = "slack"
type = "webhook"
preset = "slack"

[web]
listen = "[::]:8443"
trusted_proxy = "10.0.0.5"

[[web.users]]
name = "admin"
role = "admin"

[[web.users]]
name = "night-shift"
"""


SLACK_URL = "https://hooks.slack.com/services/T0/B0/s3cret-slack"
GOOD_SECRETS = SECRETS + f'[channels.slack]\nurl = "{SLACK_URL}"\n'


def test_a_good_file_loads_into_the_dataclasses(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path, GOOD, GOOD_SECRETS))
    north = Site("north", (Subnet("10.0.3.0/24", 0x0A000300, 0x0A0003FF),
                           Subnet("10.0.4.1-10.0.4.200", 0x0A000401, 0x0A0004C8)), ("A1", "A2"))
    assert loaded.sites == (north, Site("south", (Subnet("10.1.0.0/16", 0x0A010000, 0x0A01FFFF),)))
    # Discovery scans the sites' subnets unless told otherwise.
    assert loaded.discovery == Discovery(("10.0.3.0/24", "10.0.4.1-10.0.4.200", "10.1.0.0/16"), 50, 2.5)
    assert loaded.miners == (
        Miner("10.0.3.15", None, "antminer", "north", "A1", None, ("immersion",)),  # site from its subnet
        Miner("192.168.7.2", 4029, None, "south", None, "container 2", ()),
    )
    assert loaded.credentials == {"antminer": (Credential("admin", "s3cret-antminer"),)}
    assert loaded.sentries == (
        Sentry("10.1.5.11", community="s3cret-community", site="south"),
        Sentry("rig-12.farm.lan", 1161, "v3", None, "monitor", "SHA-256", "s3cret-auth", "AES", "s3cret-priv",
               site="yard", rack="B"),
    )
    assert loaded.intervals == Intervals(poll_s=15, discovery_s=0)
    # The storage keeps its metrics in [commander]'s state_dir unless [storage] names its own.
    assert loaded.storage == StorageSettings(state_dir=Path("/srv/minerwatch"), raw_days=7)
    assert loaded.alerts.rules["temp_chip"].threshold == 85
    assert [(c.name, c.options.preset, c.options.url) for c in loaded.channels] == [
        ("ops", "generic", "https://alerts.example/hook"), ("slack", "slack", SLACK_URL)]
    assert loaded.web == Web((WebUser("admin", "admin"), WebUser("night-shift", "viewer")), ("::", 8443), "10.0.0.5")
    assert loaded.state_dir == Path("/srv/minerwatch")
    assert loaded.default_site == "yard"
    assert (loaded.site_for("10.1.2.3"), loaded.site_for("10.0.4.201")) == ("south", "yard")


ARGON2_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0c2FsdA$s3cretHashs3cretHashs3cretHashs3cretHashs3c"


def test_no_secret_reaches_a_repr(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path, GOOD, GOOD_SECRETS + f'[web.users.admin]\npassword_hash = "{ARGON2_HASH}"\n'))
    assert loaded.web.users[0].password_hash == ARGON2_HASH
    assert "s3cret" not in repr(loaded)


def test_a_web_password_hash_that_is_not_argon2_is_named_with_its_line(tmp_path: Path) -> None:
    # The web could never check a password against it, and the user could not sign in.
    path = write(tmp_path, '[[web.users]]\nname = "bob"\n', '\n[web.users.bob]\npassword_hash = "plain-text"\n')
    problem = only(config.check(path))
    assert (problem.file.name, problem.line) == ("secrets.toml", 3)
    assert "must be an Argon2 hash ($argon2id$v=19$m=...)" in problem.message


def test_an_empty_file_is_a_working_configuration(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path, ""))
    assert (loaded.sites, loaded.miners, loaded.intervals, loaded.channels) == ((), (), Intervals(), ())
    assert loaded.state_dir == loaded.storage.state_dir == Path("/var/lib/minerwatch")
    assert loaded.alerts == AlertSettings.from_mapping({}, "[alerts]")


def test_the_environment_gives_and_overrides_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[credentials.antminer]\nusername = "root"\n[[sentries]]\nhost = "10.0.5.1"\n',
                 '[snmp]\ncommunity = "from-the-file"\n')
    monkeypatch.setenv("MINERWATCH_SECRET_CREDENTIALS_ANTMINER_PASSWORD", "from-the-env")
    monkeypatch.setenv("MINERWATCH_SECRET_SNMP_COMMUNITY", "env-wins")
    loaded = config.load(path)
    assert loaded.credentials["antminer"][0].password == "from-the-env"
    assert loaded.sentries[0].community == "env-wins"


def test_load_does_no_network_io(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("configuration loading touched the network")

    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse)
    loaded = config.load(write(tmp_path, GOOD, GOOD_SECRETS))
    assert loaded.sentries[1].host == "rig-12.farm.lan"  # a host name kept as written, not resolved


# --- the sample --------------------------------------------------------------------------------

def test_the_sample_loads_as_shipped(tmp_path: Path) -> None:
    path = tmp_path / "commander.toml"
    path.write_text(SAMPLE.read_text())
    assert config.check(path) == []


def test_every_key_the_sample_shows_is_valid_and_shows_its_default(tmp_path: Path) -> None:
    text = uncommented(SAMPLE.read_text())
    assert text.count("\n[[sentries]]") == 2 and "\n  poll_s = 30" in text  # the rewrite did its job
    secrets = SECRETS + '[channels.night-shift]\npassword = "p"\n[channels.nms]\ncommunity = "c"\n'
    loaded = config.load(write(tmp_path, text, secrets))
    assert loaded.intervals == Intervals()
    assert (loaded.state_dir, loaded.default_site) == (Config.state_dir, Config.default_site)
    assert (loaded.discovery.concurrency, loaded.discovery.timeout_s) == (200, 3.0)
    assert loaded.sentries[0].port == 161 and loaded.sentries[0].version == "v2c"
    assert loaded.storage == StorageSettings(retention_days={"boards": 7})
    assert [channel.kind for channel in loaded.channels] == ["webhook", "email", "snmp"]


# --- each kind of mistake, at its line -------------------------------------------------------------

MISTAKES = {
    "unknown key": (
        "[intervals]\npoll_s = 10\npol_s = 10\n",
        3, "unknown key 'pol_s' in [intervals] (did you mean 'poll_s'?)"),
    "unknown section": (
        "[intervals]\n\n[interval]\npoll_s = 1\n",
        3, "unknown section [interval] (did you mean [intervals]?)"),
    "wrong type": (
        '[intervals]\n# a comment\nsentries_s = "30"\n',
        3, "'sentries_s' in [intervals] must be a positive number of seconds, not the string '30'"),
    "a boolean is not a number": (
        "[discovery]\nconcurrency = true\n",
        2, "'concurrency' in [discovery] must be a whole number, 1 or more, not a boolean"),
    "bad CIDR, second element of a multi-line array": (
        '[[sites]]\nname = "a"\nsubnets = [\n  "10.0.3.0/24",\n  "10.0.300.0/24",  # typo\n]\n',
        5, "'10.0.300.0/24' in [[sites]] subnets is not a network like 10.0.3.0/24"),
    "range that ends before it starts": (
        '[discovery]\nsubnets = ["10.0.0.9-10.0.0.1"]\n',
        2, "'10.0.0.9-10.0.0.1' in [discovery] subnets is not a range that ends after it starts"),
    "discovery subnet too large to scan": (
        '[discovery]\nsubnets = ["10.0.0.0/8"]\n',
        2, "'10.0.0.0/8' holds 16,777,216 addresses, more than discovery scans (1,048,576)"),
    "unknown driver": (
        '[[miners]]\nip = "10.0.3.15"\ndriver = "antmnier"\n',
        3, "unknown driver 'antmnier' in [[miners]] (did you mean 'antminer'?)"),
    "unknown driver in credentials": (
        '[credentials.whatsminr]\nusername = "admin"\n',
        1, "unknown driver 'whatsminr' in [credentials.whatsminr] (did you mean 'whatsminer'?)"),
    "missing required key": (
        '[[miners]]\nip = "10.0.3.15"\n\n[[miners]]\nsite = "default"\n',
        4, "missing required key 'ip' in [[miners]]"),
    "missing required key in an inline table": (
        'miners = [\n  { ip = "10.0.3.15" },\n  { rack = "A1" },\n]\n',
        3, "missing required key 'ip' in [[miners]]"),
    "bad miner address": (
        '[[miners]]\nip = "10.0.3.15:99999"\n',
        2, "'ip' in [[miners]] must be an IPv4 address with an optional :port"),
    "duplicate miner ip": (
        '[[miners]]\nip = "10.0.3.15"\n[[miners]]\nip = "10.0.3.16"\n[[miners]]\nip = "10.0.3.15:4029"\n',
        6, "miner 10.0.3.15 is already listed on line 2"),
    "unknown site": (
        '[[sites]]\nname = "north"\n[[miners]]\nip = "10.0.3.15"\nsite = "nrth"\n',
        5, "unknown site 'nrth' (did you mean 'north'?): name one of the [[sites]] or 'default'"),
    "rack not of the site": (
        '[[sites]]\nname = "north"\nracks = ["A1", "A2"]\n[[miners]]\nip = "10.0.3.15"\nsite = "north"\nrack = "A3"\n',
        7, "rack 'A3' is not one of site 'north''s racks"),
    "a placement rule without a rack": (
        '[[sites]]\nname = "north"\nplace_by = "ip:10.1.{row}.{slot}"\n',
        3, "'place_by' in [[sites]] must be a pattern with {rack}, and {slot} or both {row} and {column}"),
    "a placement rule on neither address nor host name": (
        '[[sites]]\nname = "north"\nplace_by = "mac:{rack}"\n',
        3, "'place_by' in [[sites]] must be \"ip:\" or \"host:\" and a pattern"),
    "duplicate site": (
        '[[sites]]\nname = "north"\n[[sites]]\nname = "north"\n',
        4, "site 'north' is already defined on line 1"),
    "overlapping sites": (
        '[[sites]]\nname = "a"\nsubnets = ["10.0.0.0/16"]\n[[sites]]\nname = "b"\nsubnets = ["10.0.3.0/24"]\n',
        6, "'10.0.3.0/24' overlaps '10.0.0.0/16' of site 'a' (line 3)"),
    "a section that must be an array of tables": (
        '[sites]\nname = "north"\n',
        1, "[[sites]] must be an array of tables"),
    "a password in the configuration": (
        '[credentials.antminer]\nusername = "root"\npassword = "root"\n',
        3, "'password' is a secret and does not belong in commander.toml: put it in"),
    "a community in the configuration": (
        '[[sentries]]\nhost = "10.0.5.1"\ncommunity = "public"\n',
        3, "'community' is a secret and does not belong in commander.toml"),
    "v3 without a user": (
        '[[sentries]]\nhost = "10.0.5.1"\nversion = "v3"\n',
        1, "missing required key 'user' in [[sentries]] with version = 'v3'"),
    "v3 keys on a v2c sentry": (
        '[[sentries]]\nhost = "10.0.5.1"\nuser = "monitor"\n',
        3, "'user' applies to version = 'v3' only"),
    "privacy without authentication": (
        '[[sentries]]\nhost = "10.0.5.1"\nversion = "v3"\nuser = "monitor"\npriv_protocol = "AES"\n',
        5, "'priv_protocol' needs an 'auth_protocol' too"),
    "bad SNMP version": (
        '[[sentries]]\nhost = "10.0.5.1"\nversion = "v1"\n',
        3, "'version' in [[sentries]] must be one of 'v2c', 'v3', not the string 'v1'"),
    "bad host": (
        '[[sentries]]\nhost = "rig 12"\n',
        2, "'host' in [[sentries]] must be an IP address or a host name"),
    "relative state_dir": (
        '[commander]\nstate_dir = "var/lib"\n',
        2, "'state_dir' in [commander] must be an absolute path"),
    "bad web role": (
        '[[web.users]]\nname = "bob"\nrole = "root"\n',
        3, "'role' in [[web.users]] must be one of 'admin', 'operator', 'viewer'"),
    "a password for a web user": (
        '[web]\n[[web.users]]\nname = "bob"\npassword = "hunter2"\n',
        4, "'password' is a secret and does not belong in commander.toml"),
    "a dotted key": (
        'intervals.poll_s = 30\nintervals.pol_s = 30\n',
        2, "unknown key 'pol_s' in [intervals]"),
    "a quoted key": (
        '[intervals]\n"poll s" = 30\n',
        2, "unknown key 'poll s' in [intervals]"),
    "an ASIC sentry reached over plain HTTP": (
        '[[asic_sentries]]\nname = "north"\nurl = "http://10.2.0.2:8443"\n'
        'fingerprint = "sha256:' + "ab" * 32 + '"\n',
        3, "'url' in [[asic_sentries]] must be an https:// address and port"),
    "an ASIC sentry pinned by no fingerprint": (
        '[[asic_sentries]]\nname = "north"\nurl = "https://10.2.0.2:8443"\nfingerprint = "AB:CD"\n',
        4, "must be a certificate's fingerprint as `minerwatch pki list` prints it"),
    "an ASIC sentry at an unknown site": (
        '[[asic_sentries]]\nname = "north"\nurl = "https://10.2.0.2:8443"\n'
        'fingerprint = "sha256:' + "ab" * 32 + '"\nsite = "mars"\n',
        5, "unknown site 'mars'"),
    "an ASIC sentry without its name": (
        '[asic_sentry]\nlisten = "0.0.0.0:8443"\ntls_cert = "/a"\ntls_key = "/b"\ntls_ca = "/c"\n',
        1, "missing required key 'name' in [asic_sentry]"),
    "a syntax error": (
        '[intervals]\npoll_s = 30\nsentries_s = \n',
        3, "invalid value"),
}


@pytest.mark.parametrize("text, line, message", MISTAKES.values(), ids=MISTAKES.keys())
def test_each_mistake_names_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    # Secrets for what these snippets ask for, so that only the mistake itself is reported.
    path = write(tmp_path, text, '[snmp]\ncommunity = "c"\n' if "[[sentries]]" in text
                 and "v3" not in text else None)
    problem = only(config.check(path))
    assert (problem.file, problem.line) == (path, line), str(problem)
    assert message in problem.message
    assert str(problem).startswith(f"{path}:{line}: ")
    with pytest.raises(config.ConfigError, match=re.escape(str(problem))):
        config.load(path)


def test_every_mistake_is_reported_not_only_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, '[intervals]\npoll_s = 0\nsentries = 30\n[[miners]]\nip = "10.0.3.999"\n')
    assert [p.line for p in config.check(path)] == [2, 3, 5]


def test_a_column_is_given_where_known(tmp_path: Path) -> None:
    path = write(tmp_path, '[discovery]\nsubnets = ["10.0.3.0/24", "10.0.3.0/33"]\n')
    assert (only(config.check(path)).line, only(config.check(path)).column) == (2, 27)


def test_an_unreadable_file_is_one_sentence(tmp_path: Path) -> None:
    problem = only(config.check(tmp_path / "absent.toml"))
    assert problem.line is None and str(problem) == f"{tmp_path / 'absent.toml'}: cannot read it: No such file or directory"


# --- the secrets file ------------------------------------------------------------------------------

NEEDS_A_PASSWORD = '[[miners]]\nip = "10.0.3.15"\n\n[credentials.antminer]\nusername = "root"\n'


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, NEEDS_A_PASSWORD, SECRETS, mode=0o644)
    problem = only(config.check(path))  # one sentence, not one more per secret it could not give
    secrets = tmp_path / "secrets.toml"
    assert (problem.file, problem.line) == (secrets, None)
    assert problem.message == f"it holds passwords but its mode 0644 lets others at it; run: chmod 600 {secrets}"


def test_a_read_only_secrets_file_is_accepted(tmp_path: Path) -> None:
    secrets = '[credentials.antminer]\npassword = "x"\n'
    assert config.check(write(tmp_path, NEEDS_A_PASSWORD, secrets, mode=0o400)) == []


def test_a_secrets_file_owned_by_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, NEEDS_A_PASSWORD, SECRETS)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 4242)
    problem = only(config.check(path))
    assert problem.file == tmp_path / "secrets.toml"
    assert problem.message.endswith(f"but minerwatch runs as {os.stat(path).st_uid + 4242}; "
                                    f"run: chown {os.stat(path).st_uid + 4242} {tmp_path / 'secrets.toml'}")


def test_a_password_the_config_needs_and_the_secrets_lack(tmp_path: Path) -> None:
    path = write(tmp_path, NEEDS_A_PASSWORD, '[snmp]\ncommunity = "c"\n')
    problems = config.check(path)
    assert [(p.file.name, p.line) for p in problems] == [("commander.toml", 4), ("secrets.toml", 2)]
    assert problems[0].message.startswith("the password for [credentials.antminer] is missing: put it in ")
    assert "$MINERWATCH_SECRET_CREDENTIALS_ANTMINER_PASSWORD" in problems[0].message
    assert problems[1].message == "'snmp.community' is not used by the configuration"


def test_a_missing_default_secrets_file_is_fine_until_a_secret_is_needed(tmp_path: Path) -> None:
    assert config.check(write(tmp_path, '[[miners]]\nip = "10.0.3.15"\n')) == []
    problem = only(config.check(write(tmp_path, NEEDS_A_PASSWORD)))
    assert problem.line == 4 and "password for [credentials.antminer] is missing" in problem.message


def test_a_named_secrets_file_must_exist(tmp_path: Path) -> None:
    problem = only(config.check(write(tmp_path, ""), tmp_path / "elsewhere.toml"))
    assert str(problem) == f"{tmp_path / 'elsewhere.toml'}: cannot read it: no such file"


def test_mistakes_in_the_secrets_file_name_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, NEEDS_A_PASSWORD, '[credentials.antminer]\npasword = "x"\npassword = 1234\n')
    problems = config.check(path)
    assert [(p.file.name, p.line) for p in problems] == [("secrets.toml", 2), ("secrets.toml", 3)]
    assert "'credentials.antminer.pasword' is not used by the configuration (did you mean " \
           "'credentials.antminer.password'?)" == problems[0].message
    assert problems[1].message == "'password' in [credentials.antminer] must be a string, not the integer 1234"


def test_short_snmpv3_passwords_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sentries]]\nhost = "10.0.5.1"\nversion = "v3"\nuser = "m"\nauth_protocol = "SHA"\n',
                 '[snmp.users.m]\nauth_password = "tiny12"\n')
    problem = only(config.check(path))
    assert problem.line == 5 and "fewer than 8 characters" in problem.message
    assert "tiny12" not in str(problem)


# --- sections other packages parse ---------------------------------------------------------------

def test_mistakes_the_owning_packages_find_are_placed_at_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        [storage]
        raw_days = 7
        raw_dayz = 3

        [alerts.rules.temp_chip]
        severity = "critical"
        threshold = "hot"

        [[channels]]
        name = "ops"
        type = "webhook"
        """)
    secrets = tmp_path / "secrets.toml"
    assert [(p.line, p.message) for p in config.check(path)] == [
        (3, "unknown key 'raw_dayz' in [storage] (did you mean 'raw_days'?)"),
        (7, "'threshold' in [alerts.rules.temp_chip] must be a number, 0 or more, not the string 'hot'"),
        (9, f"[[channels]] needs a url: here, or in {secrets} as [channels.ops] url = \"...\" or in "
            "$MINERWATCH_SECRET_CHANNELS_OPS_URL when it holds a credential"),
    ]


# A mistake in each section, at its line; an unknown key with the key it was probably meant to be.
SECTION_MISTAKES = {
    "commander": ('[commander]\nname = "north"\nstate_dri = "/srv"\n',
                  3, "unknown key 'state_dri' in [commander] (did you mean 'state_dir'?)"),
    "sites": ('[[sites]]\nname = "north"\nrack = ["A1"]\n', 3,
              "unknown key 'rack' in [[sites]] (did you mean 'racks'?)"),
    "discovery": ("[discovery]\nconcurency = 10\n", 2, "unknown key 'concurency' in [discovery] (did you mean "
                                                         "'concurrency'?)"),
    "miners": ('[[miners]]\nip = "10.0.3.15"\nlocaton = "shelf 3"\n', 3,
               "unknown key 'locaton' in [[miners]] (did you mean 'location'?)"),
    "credentials": ('[credentials.antminer]\nusername = "root"\nsubnet = ["10.0.0.0/8"]\n', 3,
                    "unknown key 'subnet' in [credentials.antminer] (did you mean 'subnets'?)"),
    "sentries": ('[[sentries]]\nhost = "10.0.5.1"\nprot = 1161\n', 3,
                 "unknown key 'prot' in [[sentries]] (did you mean 'port'?)"),
    "intervals": ("[intervals]\ndiscovery_s = -1\n", 2,
                  "'discovery_s' in [intervals] must be a number of seconds, 0 or more, not the integer -1"),
    "storage": ("[storage]\ncompaction = true\nraw_day = 7\n", 3, "unknown key 'raw_day' in [storage] (did you mean "
                                                                   "'raw_days'?)"),
    "storage retention": ("[storage.retention_days]\nboard = 7\n", 2,
                          "'board' in [storage.retention_days] names no table (did you mean 'boards'?); the tables "),
    "storage days": ("[storage]\nraw_days = 0\n", 2,
                     "'raw_days' in [storage] must be a whole number, 1 or more, not the integer 0"),
    "alerts": ('[alerts]\nsumary_at = "07:00"\n', 2,
               "unknown key 'sumary_at' in [alerts] (did you mean 'summary_at'?)"),
    "alerts time": ('[alerts]\nsummary_at = "8 o\'clock"\n', 2,
                    "'summary_at' in [alerts] must be a time such as \"08:00\", or \"\" for none"),
    "alerts rule": ("[alerts.rules.fan_slow]\nhold_s = 0\ntreshold = 800\n", 3,
                    "unknown key 'treshold' in [alerts.rules.fan_slow] (did you mean 'threshold'?)"),
    "alerts rule value": ('[alerts.rules.temp_chip]\nseverity = "panic"\n', 2,
                          "'severity' in [alerts.rules.temp_chip] must be one of 'critical', 'warning', 'info', "
                          "not the string 'panic'"),
    "alerts unknown rule": ("[alerts.rules.temp_chp]\nthreshold = 80\n", 1,
                            "unknown rule 'temp_chp' in [alerts.rules] (did you mean 'temp_chip'?)"),
    "channel": ('[[channels]]\nname = "ops"\ntype = "webhook"\nurl = "https://x.example"\nretry_atempts = 3\n', 5,
                "unknown key 'retry_atempts' in [[channels]] (did you mean 'retry_attempts'?)"),
    "channel value": ('[[channels]]\nname = "ops"\ntype = "webhook"\nurl = "https://x.example"\nretry_base_s = 0\n',
                      5, "'retry_base_s' in [[channels]] must be a positive number of seconds, not the integer 0"),
    "channel of another type": ('[[channels]]\nname = "ops"\ntype = "email"\nhost = "smtp.example"\n'
                                'from = "mw@farm.example"\nto = ["ops@farm.example"]\npreset = "slack"\n', 7,
                                "unknown key 'preset' in [[channels]]"),
    "channel secret": ('[[channels]]\nname = "ops"\ntype = "webhook"\nurl = "https://x.example"\ntoken = "t"\n', 5,
                       "'token' is a secret and does not belong in commander.toml: put it in "),
    "email without a password": ('[[channels]]\nname = "ops"\ntype = "email"\nhost = "smtp.example"\n'
                                 'from = "mw@farm.example"\nto = ["ops@farm.example"]\nusername = "mw"\n', 7,
                                 "username 'mw' needs its password in "),
    "snmp channel without a community": ('[[channels]]\nname = "nms"\ntype = "snmp"\nhost = "10.0.0.2"\n', 1,
                                         "SNMPv2c needs the community the NMS's trap receiver accepts, in "),
    "snmp channel v3 without keys": ('[[channels]]\nname = "nms"\ntype = "snmp"\nhost = "10.0.0.2"\nversion = "3"\n'
                                     'user = "mw"\npriv_protocol = "none"\n', 1,
                                     "SNMPv3 with auth_protocol SHA needs auth_key in "),
    "telegram without a token": ('[[channels]]\nname = "tg"\ntype = "webhook"\npreset = "telegram"\nchat_id = 5\n', 4,
                                 "the telegram preset needs chat_id here and the bot's token in "),
    "web": ('[web]\nuser = []\n', 2, "unknown key 'user' in [web] (did you mean 'users'?)"),
    "web user": ('[[web.users]]\nname = "bob"\nrol = "admin"\n', 3,
                 "unknown key 'rol' in [[web.users]] (did you mean 'role'?)"),
    "web listen without a port": ('[web]\nlisten = "0.0.0.0"\n', 2,
                                  "'listen' in [web] must be an address and port to listen on, like '127.0.0.1:8080'"),
    "web listen on a name": ('[web]\nlisten = "farm.local:8080"\n', 2,
                             "'listen' in [web] must be an address and port to listen on"),
    "web listen on IPv6 without brackets": ('[web]\nlisten = "::1:8080"\n', 2,
                                            "'listen' in [web] must be an address and port to listen on"),
    "web trusted_proxy": ('[web]\ntrusted_proxy = "proxy.lan"\n', 2,
                          "'trusted_proxy' in [web] must be an IP address, not the string 'proxy.lan'"),
    "duplicate web user": ('[[web.users]]\nname = "bob"\n[[web.users]]\nname = "bob"\n', 4,
                           "web user 'bob' is already defined on line 1"),
}


@pytest.mark.parametrize("text, line, message", SECTION_MISTAKES.values(), ids=SECTION_MISTAKES.keys())
def test_a_mistake_in_each_section_names_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text, '[snmp]\ncommunity = "c"\n[credentials.antminer]\npassword = "p"\n')
    problems = [p for p in config.check(path) if p.file == path]  # the secrets these snippets do not use aside
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert str(problems[0]).startswith(f"{path}:{line}: {message}"), str(problems[0])


def test_every_mistake_in_the_plugged_sections_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        [storage]
        raw_days = 0
        rollup_5m_days = "x"

        [alerts]
        queue_size = 0

        [alerts.rules.temp_chip]
        threshold = -1
        hold_s = "1m"

        [[channels]]
        name = "ops"
        type = "email"
        host = "smtp.example"
        to = []
        """)
    assert [p.line for p in config.check(path)] == [2, 3, 6, 9, 10, 12, 16]


def test_a_channel_takes_its_secrets_from_the_file_or_the_environment(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    text = '[[channels]]\nname = "tg"\ntype = "webhook"\npreset = "telegram"\nchat_id = 42\n'
    assert config.load(write(tmp_path, text, '[channels.tg]\ntoken = "s3cret-file"\n')).channels[0].options.token \
        == "s3cret-file"
    monkeypatch.setenv("MINERWATCH_SECRET_CHANNELS_TG_TOKEN", "s3cret-env")
    assert config.load(write(tmp_path, text, "")).channels[0].options.token == "s3cret-env"


# --- the command -----------------------------------------------------------------------------------

def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    config_cli.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_config_check_and_serve_refuse_a_state_dir_they_cannot_create(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("")
    path = write(tmp_path, f'[commander]\nname = "north"\nstate_dir = "{tmp_path}/afile/state"\n')
    assert config.check(path) == []  # the file itself is right
    expected = f"{path}:3: state_dir {tmp_path}/afile/state cannot be used: {tmp_path}/afile is a file, not a directory\n"
    assert run_cli("config", "check", "--config", str(path)) == 1
    assert capsys.readouterr().out == expected
    from appliance.cli import main

    assert main(["serve", "--config", str(path)]) == 2
    assert capsys.readouterr().err == expected


def test_credentials_per_site_and_subnet_keep_passwords_to_their_miners(tmp_path: Path) -> None:
    path = write(tmp_path, """
        [[sites]]
        name = "west"
        subnets = ["10.2.0.0/16"]

        [[sites]]
        name = "lab"

        [[miners]]
        ip = "192.168.9.9"
        site = "lab"

        [credentials.antminer]
        username = "root"

        [credentials.antminer-west]
        driver = "antminer"
        username = "root"
        sites = ["west", "lab"]
        subnets = ["10.9.0.1-10.9.0.20"]
        """, """
        [credentials.antminer]
        password = "farm-wide"
        [credentials.antminer-west]
        password = "west-only"
        """)
    loaded = config.load(path)
    credentials = Credentials.of(loaded.credentials)
    assert credentials.for_driver("antminer", "10.2.3.4").password == "west-only"
    assert credentials.for_driver("antminer", "192.168.9.9").password == "west-only"  # listed at site lab
    assert credentials.for_driver("antminer", "10.9.0.20").password == "west-only"
    assert credentials.for_driver("antminer", "10.9.0.21").password == "farm-wide"


@pytest.mark.parametrize("text, line, message", [
    ('[credentials.antminr]\nusername = "root"\n', 1,
     "unknown driver 'antminr' in [credentials.antminr] (did you mean 'antminer'?); a credential under another "
     "name says whose it is with driver"),
    ('[credentials.west]\ndriver = "antmner"\nusername = "root"\n', 2, "(did you mean 'antminer'?)"),
    ('[credentials.west]\ndriver = "antminer"\nusername = "root"\nsites = ["nort"]\n', 4,
     "unknown site 'nort' in [credentials.west]"),
    ('[[sites]]\nname = "lab"\n[credentials.west]\ndriver = "antminer"\nusername = "root"\nsites = ["lab"]\n', 6,
     "site 'lab' has no subnets and no miners listed, so [credentials.west] would be offered to no device"),
    ('[credentials.antminer]\nusername = "root"\nsubnets = ["10.0.0.0/33"]\n', 3, "'10.0.0.0/33' in "
     "[credentials.antminer] subnets is not a network"),
])
def test_credential_mistakes_name_their_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    name = text.split("[credentials.")[1].split("]")[0]
    problem = only(config.check(write(tmp_path, text, f'[credentials.{name}]\npassword = "pw"\n')))
    assert problem.line == line and message in problem.message, str(problem)


def test_a_channel_type_of_the_wrong_kind_is_one_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, '[[channels]]\nname = "ops"\ntype = ["webhook"]\n\n[[channels]]\nname = "b"\ntype = {a = 1}\n')
    problems = config.check(path)
    assert [(p.line, "'type' in [[channels]] must be one of 'webhook', 'email', 'snmp'" in p.message)
            for p in problems] == [(3, True), (7, True)], problems


def test_config_check_prints_each_problem_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[intervals]\nintervall = 30\n")
    assert run_cli("config", "check", "--config", str(path)) == 1
    assert capsys.readouterr().out == f"{path}:2: unknown key 'intervall' in [intervals]\n"


def test_config_check_says_ok_with_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace('"/srv/minerwatch"', f'"{tmp_path / "state"}"'))
    secrets = tmp_path / "elsewhere.toml"
    secrets.write_text(GOOD_SECRETS)
    secrets.chmod(0o600)
    assert run_cli("config", "check", "--config", str(path), "--secrets", str(secrets)) == 0
    assert capsys.readouterr().out == (f"{path}: OK (2 miners, 2 sentries, 2 channels)\n"
                                       f"{path}: `minerwatch web` serves on [::]:8443, behind the proxy at "
                                       "10.0.0.5\n")


def test_the_asic_sentry_sample_loads_as_shipped_and_with_every_key_shown(tmp_path: Path) -> None:
    sample = REPO / "packaging" / "asic-sentry.toml"
    path = tmp_path / "asic-sentry.toml"
    path.write_text(sample.read_text())
    assert config.check(path) == []
    loaded = config.load(write(tmp_path, uncommented(sample.read_text())))
    assert loaded.asic_sentry == AsicSentry(name="north", listen=("0.0.0.0", 8443),
                                            tls_cert=Path("/etc/minerwatch/pki/north.crt"),
                                            tls_key=Path("/etc/minerwatch/pki/north.key"),
                                            tls_ca=Path("/etc/minerwatch/pki/ca.crt"))
    assert loaded.intervals == Intervals()
