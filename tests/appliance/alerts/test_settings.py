"""The [alerts] and [[channels]] tables: defaults a farm would choose, unknown keys and misplaced
secrets refused in one sentence naming the place, secrets kept out of every repr. (Their lines in
commander.toml: tests/appliance/test_config.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.alerts.settings import AlertSettings, ChannelSettings
from configfile import ConfigError

WHERE = "/etc/minerwatch/minerwatch.toml [alerts]"


def test_defaults_cover_every_rule():
    settings = AlertSettings.from_mapping({}, WHERE)
    chip = settings.rules["temp_chip"]
    assert (chip.threshold, chip.hysteresis, chip.hold_s, chip.severity) == (90, 5, 60, "critical")
    assert settings.rules["offline"].threshold == 3
    assert settings.rules["hashrate_low"].options["reference"] == "nominal"
    assert settings.summary_at == dt.time(8, 0) and settings.heartbeat_url is None


def test_a_rule_table_overrides_its_defaults():
    settings = AlertSettings.from_mapping(
        {"rules": {"fan_slow": {"threshold": 800, "hold_s": 0}, "wrong_pool": {"trusted_users": ["farm"]}},
         "summary_at": ""}, WHERE)
    assert settings.rules["fan_slow"].threshold == 800 and settings.rules["fan_slow"].hold_s == 0
    assert settings.rules["wrong_pool"].options["trusted_users"] == ("farm",)
    assert settings.summary_at is None


@pytest.mark.parametrize("table, message", [
    ({"nonsense": 1}, f"{WHERE}: unknown key 'nonsense' in [alerts]"),
    ({"rules": {"temp_cpu": {}}}, f"{WHERE}: unknown rule 'temp_cpu' in [alerts.rules] (did you mean 'temp_gpu'?)"),
    ({"rules": {"temp_chip": {"treshold": 95}}},
     f"{WHERE}: unknown key 'treshold' in [alerts.rules.temp_chip] (did you mean 'threshold'?)"),
    ({"rules": {"temp_chip": {"threshold": "hot"}}},
     "'threshold' in [alerts.rules.temp_chip] must be a number, 0 or more, not the string 'hot'"),
    ({"rules": {"temp_chip": {"enabled": 1}}}, "'enabled' in [alerts.rules.temp_chip] must be true or false, not the "
                                               "integer 1"),
    ({"rules": {"temp_chip": {"severity": "panic"}}}, "'severity' in [alerts.rules.temp_chip] must be one of "
                                                      "'critical', 'warning', 'info'"),
    ({"rules": {"board_dead": {"threshold": 1}}}, "unknown key 'threshold' in [alerts.rules.board_dead]"),
    ({"rules": {"hashrate_low": {"reference": "yesterday"}}}, "'reference' in [alerts.rules.hashrate_low] must be "
                                                              "one of 'nominal', 'median'"),
    ({"summary_at": "8 o'clock"}, "'summary_at' in [alerts] must be a time such as \"08:00\""),
    ({"rules": 5}, "[alerts.rules] must be a table, not the integer 5"),
])
def test_mistakes_are_one_sentence_naming_the_place(table, message):
    with pytest.raises(ConfigError) as error:
        AlertSettings.from_mapping(table, WHERE)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_every_mistake_is_reported():
    with pytest.raises(ConfigError) as error:
        AlertSettings.from_mapping({"queue_size": 0, "rules": {"temp_chip": {"hold_s": -1, "severity": "panic"}}},
                                   WHERE)
    assert len(error.value.problems) == 3


def test_choices_take_any_case():
    settings = AlertSettings.from_mapping({"heartbeat_method": "post", "rules": {"temp_chip": {"severity": "Warning"}}},
                                          WHERE)
    assert (settings.heartbeat_method, settings.rules["temp_chip"].severity) == ("POST", "warning")


CHANNELS = "/etc/minerwatch/minerwatch.toml [[channels]] #1"


def test_channels_take_their_secrets_from_the_secrets_table_and_never_show_them():
    mail = ChannelSettings.from_mapping(
        {"name": "ops", "type": "email", "host": "smtp.example", "from": "mw@farm.example", "to": ["ops@farm.example"],
         "username": "mw", "retry_attempts": 3}, CHANNELS, {"password": "hunter2"})
    assert mail.options.password == "hunter2" and mail.options.port == 587 and mail.retry.attempts == 3
    slack = ChannelSettings.from_mapping({"name": "slack", "type": "webhook", "preset": "slack"}, CHANNELS,
                                         {"url": "https://hooks.slack.com/services/T/B/secret"})
    nms = ChannelSettings.from_mapping({"name": "nms", "type": "snmp", "host": "nms.example", "version": "3",
                                        "user": "mw"}, CHANNELS, {"auth_key": "authsecret", "priv_key": "privsecret"})
    assert nms.options.notify == "inform"
    for secret in ("hunter2", "T/B/secret", "authsecret", "privsecret", "public"):
        assert secret not in repr(mail) + repr(slack) + repr(nms)


@pytest.mark.parametrize("table, secrets, message", [
    ({"type": "email", "host": "h", "from": "f@x", "to": ["t@x"], "password": "x"}, {},
     "'password' is a secret and does not belong in "),
    ({"type": "email", "host": "h", "from": "f@x", "to": ["t@x"], "username": "u"}, {},
     "username 'u' needs its password in "),
    ({"type": "webhook"}, {}, "[[channels]] needs a url: here, or in "),
    ({"type": "webhook", "preset": "telegram", "chat_id": 5}, {}, "needs chat_id here and the bot's token in "),
    ({"type": "webhook", "url": "http://x", "retry_base_s": 0}, {}, "'retry_base_s' in [[channels]] must be a positive "
                                                                   "number of seconds"),
    ({"type": "pager"}, {}, "'type' in [[channels]] must be one of 'webhook', 'email', 'snmp'"),
    ({"type": "snmp", "host": "h", "version": "3", "user": "u", "priv_protocol": "none"}, {},
     "SNMPv3 with auth_protocol SHA needs auth_key in "),
    ({"type": "snmp", "host": "h", "base_oid": "1.3.six"}, {"community": "c"},
     "'base_oid' in [[channels]] must be dotted numbers"),
    ({"type": "snmp", "host": "h"}, {}, "SNMPv2c needs the community"),
    ({"type": "email", "host": "smtp example", "from": "f@x", "to": ["t@x"]}, {},
     "'host' in [[channels]] must be an IP address or a host name"),
])
def test_channel_mistakes_are_one_sentence(table, secrets, message):
    with pytest.raises(ConfigError) as error:
        ChannelSettings.from_mapping({"name": "test", **table}, CHANNELS, secrets)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)
