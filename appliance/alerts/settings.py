"""The ``[alerts]`` and ``[[channels]]`` tables of the commander's configuration, read into frozen
dataclasses through ``configfile.Table`` (``AlertSettings.read``, ``ChannelSettings.read``), so that
each mistake is placed at its line like any other in the file. Unknown keys are errors. Secrets (SMTP
password, webhook URL or token, SNMP community and keys) come from the secrets file's
``[channels.NAME]`` table, and are kept out of every ``repr`` so they cannot reach a log line;
putting one in the main file is an error.

    [alerts]
    ## ha_role_file = "/run/minerwatch/ha-role"   # written by keepalived's notify script (appliance/ha.py)
    ## heartbeat_url = "https://hc-ping.com/<uuid>" # pinged every cycle, for an outside dead-man's switch
    ## heartbeat_method = "GET"
    ## summary_at = "08:00"                         # local time of the daily summary; "" for none
    ## queue_size = 1000                            # pending messages per channel before the oldest go
    ## history_days = 365                           # the alert history keeps an event this long

    ## [alerts.rules.temp_chip]                     # one table per rule, every key optional
    ## enabled = true
    ## threshold = 90
    ## hysteresis = 5
    ## hold_s = 60
    ## severity = "critical"
    ## [alerts.rules.wrong_pool]
    ## trusted_urls = ["stratum+tcp://btc.pool.example:3333"]
    ## trusted_users = ["farmaccount"]

    [[channels]]
    name = "ops"
    type = "webhook"          # webhook | email | snmp
    preset = "slack"          # generic | slack | discord | telegram
    ## min_severity = "info"  # fired/resolved messages below it are not sent; the summary always is
    ## retry_attempts = 12
    ## retry_base_s = 5       # back-off doubles from here ...
    ## retry_max_s = 300      # ... up to here
    ## timeout_s = 10
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from appliance.alerts.rules import RULES
from collectors import mib
from configfile import Table, Wrong, did_you_mean, from_mapping, kinds

SEVERITIES = ("critical", "warning", "info")  # most urgent first
# MINERWATCH-MIB's module OID, under which the snmp channel's notifications and objects sit.
DEFAULT_BASE_OID = mib.dotted(mib.BASE)


@dataclass(frozen=True)
class RuleSettings:
    """One rule as configured: the table's defaults (``rules.RULES``) overridden by ``[alerts.rules.NAME]``."""

    name: str
    enabled: bool
    hold_s: float
    threshold: float | None
    hysteresis: float
    severity: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def read(cls, name: str, table: Table) -> RuleSettings:
        rule = RULES[name]
        options = {}
        for key, default in rule.options.items():
            if key in rule.choices:
                options[key] = table.get(key, kinds.choice(*rule.choices[key]), default)
            elif isinstance(default, list):
                options[key] = table.get(key, kinds.texts, tuple(default))
            else:
                options[key] = table.get(key, kinds.count, default)
        # Rules with no number to compare (dead board, wrong pool) take no threshold.
        compares = rule.threshold is not None
        settings = cls(
            name=name,
            enabled=table.get("enabled", kinds.boolean, True),
            hold_s=table.get("hold_s", kinds.seconds_or_zero, rule.hold_s),
            threshold=table.get("threshold", kinds.number(0), rule.threshold) if compares else None,
            hysteresis=table.get("hysteresis", kinds.number(0), rule.hysteresis) if compares else 0.0,
            severity=table.get("severity", kinds.choice(*SEVERITIES), rule.severity),
            options=MappingProxyType(options),
        )
        table.done()
        return settings


def _time(value: Any) -> dt.time | None:
    """A local time of day, "" for none."""
    try:
        return dt.time.fromisoformat(value) if value != "" else None
    except (TypeError, ValueError):
        raise Wrong('a time such as "08:00", or "" for none') from None


@dataclass(frozen=True)
class AlertSettings:
    rules: Mapping[str, RuleSettings]  # every rule of ``rules.RULES``, configured or not
    ha_role_file: Path = Path("/run/minerwatch/ha-role")
    heartbeat_url: str | None = field(default=None, repr=False)  # its token is in the URL
    heartbeat_method: str = "GET"
    heartbeat_timeout_s: float = 10.0
    summary_at: dt.time | None = dt.time(8, 0)  # local time
    queue_size: int = 1000
    history_days: float = 365  # how long the alert history keeps an event (whole months go)

    @classmethod
    def read(cls, table: Table) -> AlertSettings:
        rules = table.table("rules")
        for name in rules.data:
            if name not in RULES:
                rules.problem(name, f"unknown rule '{name}' in {rules.name}{did_you_mean(name, RULES)}")
        settings = cls(
            rules=MappingProxyType({name: RuleSettings.read(name, rules.table(name)) for name in RULES}),
            ha_role_file=table.get("ha_role_file", kinds.path, cls.ha_role_file),
            heartbeat_url=table.get("heartbeat_url", kinds.string, "") or None,  # "" for none, like summary_at
            heartbeat_method=table.get("heartbeat_method", kinds.choice("GET", "POST", "HEAD"), cls.heartbeat_method),
            heartbeat_timeout_s=table.get("heartbeat_timeout_s", kinds.number(0.1), cls.heartbeat_timeout_s),
            summary_at=table.get("summary_at", _time, cls.summary_at),
            queue_size=table.get("queue_size", kinds.count, cls.queue_size),
            history_days=table.get("history_days", kinds.number(1), cls.history_days),
        )
        table.done()
        return settings

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str) -> AlertSettings:
        """From ``table``, an [alerts] table given as a mapping (``where`` names it); raises
        ConfigError listing every mistake."""
        return from_mapping(cls.read, table, where, ("alerts",))


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 12  # then the message is dropped, with a log line
    base_s: float = 5.0  # the first wait; each failure doubles it ...
    max_s: float = 300.0  # ... up to this
    timeout_s: float = 10.0  # one attempt, connect to answer

    def delay_s(self, failures: int) -> float:
        return min(self.max_s, self.base_s * 2 ** (failures - 1))


@dataclass(frozen=True)
class WebhookSettings:
    preset: str  # generic | slack | discord | telegram
    url: str = field(repr=False)  # Slack's and Discord's webhook URLs are credentials themselves
    chat_id: str | None = None  # Telegram's chat
    headers: Mapping[str, str] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)  # Telegram's bot token; else a Bearer token


@dataclass(frozen=True)
class EmailSettings:
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    security: str = "starttls"  # starttls | tls (implicit, port 465) | none
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None  # a private CA or a self-signed server; else the system's CAs


@dataclass(frozen=True)
class SnmpSettings:
    host: str
    port: int = 162
    version: str = "2c"  # 2c | 3
    notify: str = "trap"  # trap | inform
    community: str = field(default="", repr=False)  # v2c; required there
    user: str | None = None  # SNMPv3 USM user
    auth_protocol: str = "SHA"  # SHA | SHA256 | SHA512 | MD5 | none
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str = "AES"  # AES | AES256 | DES | none
    priv_key: str | None = field(default=None, repr=False)
    base_oid: str = DEFAULT_BASE_OID


WEBHOOK_PRESETS = ("generic", "slack", "discord", "telegram")
TELEGRAM_API = "https://api.telegram.org"
# Keys read only from the secrets file (a webhook's url may be in either: only some URLs are credentials).
SECRETS_ONLY = {"webhook": ("token",), "email": ("password",), "snmp": ("community", "auth_key", "priv_key")}
ChannelOptions = WebhookSettings | EmailSettings | SnmpSettings


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    kind: str  # webhook | email | snmp
    options: ChannelOptions
    retry: RetrySettings = RetrySettings()
    min_severity: str = "info"

    @classmethod
    def read(cls, table: Table, secrets_of: Callable[[str], Table]) -> ChannelSettings | None:
        """One [[channels]] entry; ``secrets_of(name)`` is that channel's table of the secrets file
        ([channels.NAME]). None when a mistake leaves nothing to send with (said)."""
        name = table.get("name", kinds.text)
        kind = table.get("type", kinds.choice(*SECRETS_ONLY))
        if kind is None:  # which keys belong depends on the type: say nothing more
            return None
        secrets = secrets_of(name or "NAME")
        options = _READERS[kind](table, secrets)
        retry = RetrySettings(
            attempts=table.get("retry_attempts", kinds.count, RetrySettings.attempts),
            base_s=table.get("retry_base_s", kinds.seconds, RetrySettings.base_s),
            max_s=table.get("retry_max_s", kinds.seconds, RetrySettings.max_s),
            timeout_s=table.get("timeout_s", kinds.number(0.1), RetrySettings.timeout_s),
        )
        min_severity = table.get("min_severity", kinds.choice(*SEVERITIES), cls.min_severity)
        table.done(secrets={key: secrets.where(key) for key in SECRETS_ONLY[kind]})
        if name is None or options is None:
            return None
        return cls(name=name, kind=kind, options=options, retry=retry, min_severity=min_severity)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str, secrets: Mapping[str, Any] | None = None
                     ) -> ChannelSettings:
        """From ``table``, one [[channels]] entry given as a mapping (``where`` names it), and
        ``secrets``, its [channels.NAME] table; raises ConfigError listing every mistake."""
        def read(entry: Table) -> ChannelSettings | None:
            return cls.read(entry, lambda name: Table(entry.document, secrets or {}, ("channels", name)))
        channel = from_mapping(read, table, where, ("channels", 0))
        assert channel is not None, "a channel with nothing to send with is a mistake, and said"
        return channel


def _chat_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise Wrong('a chat id: a number, or "@channel"')
    return str(value)


def _headers(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Wrong('a table of header names and their text, like { X-Farm = "north" }')
    return MappingProxyType(dict(value))


def _webhook(table: Table, secrets: Table) -> WebhookSettings | None:
    preset = table.get("preset", kinds.choice(*WEBHOOK_PRESETS), "generic")
    # A plain receiver's URL may live in the main file; Slack's and Discord's carry their credential.
    secret_url, url = secrets.get("url", kinds.text, None), table.get("url", kinds.text, None)
    url = secret_url or url
    token = secrets.get("token", kinds.text, None)
    chat_id = table.get("chat_id", _chat_id, None)
    headers = table.get("headers", _headers, MappingProxyType({}))
    if preset == "telegram":
        if token is None or chat_id is None:
            table.problem("preset", f"the telegram preset needs chat_id here and the bot's token in "
                                    f"{secrets.where('token')}")
            return None
        url = url or TELEGRAM_API
    elif url is None:
        table.problem((), f"{table.name} needs a url: here, or in {secrets.where('url')} when it holds a credential")
        return None
    return WebhookSettings(preset=preset, url=url, chat_id=chat_id, headers=headers, token=token)


def _email(table: Table, secrets: Table) -> EmailSettings | None:
    host, sender, to = table.get("host", kinds.host), table.get("from", kinds.text), table.get("to", kinds.texts)
    security = table.get("security", kinds.choice("starttls", "tls", "none"), "starttls")
    port = table.get("port", kinds.port, 465 if security == "tls" else 587)
    username = table.get("username", kinds.text, None)
    ca_file = table.get("ca_file", kinds.path, None)
    password = secrets.get("password", kinds.string, None)
    if to == ():
        table.problem("to", f"'to' in {table.name} lists no address to send to")
    if username is not None and password is None:
        table.problem("username", f"username '{username}' needs its password in {secrets.where('password')}")
    if not (host and sender and to):
        return None
    return EmailSettings(host=host, sender=sender, to=to, port=port, security=security, username=username,
                         password=password, ca_file=ca_file)


def _oid(value: Any) -> str:
    if not isinstance(value, str) or not all(part.isdigit() for part in value.split(".")):
        raise Wrong("dotted numbers")
    return value


def _snmp(table: Table, secrets: Table) -> SnmpSettings | None:
    host = table.get("host", kinds.host)
    port = table.get("port", kinds.port, 162)
    version = table.get("version", kinds.choice("2c", "3"), "2c")
    # An inform is acknowledged, so the retry knows it arrived; v3 makes it the default.
    notify = table.get("notify", kinds.choice("trap", "inform"), "inform" if version == "3" else "trap")
    user = table.get("user", kinds.text, None)
    auth_protocol = table.get("auth_protocol", kinds.choice("SHA", "SHA256", "SHA512", "MD5", "none"), "SHA")
    priv_protocol = table.get("priv_protocol", kinds.choice("AES", "AES256", "DES", "none"), "AES")
    base_oid = table.get("base_oid", _oid, DEFAULT_BASE_OID)
    community = secrets.get("community", kinds.string, None)
    auth_key, priv_key = secrets.get("auth_key", kinds.string, None), secrets.get("priv_key", kinds.string, None)
    complete = host is not None
    # No default: "public" is what every scanner tries, and the NMS would take forged alerts with it.
    if version == "2c" and not community:
        table.problem("version", f"SNMPv2c needs the community the NMS's trap receiver accepts, in "
                                 f"{secrets.where('community')}")
        complete = False
    if version == "3" and user is None:
        table.problem("version", f"missing required key 'user' in {table.name} with version = '3'")
        complete = False
    for key, protocol, secret, value in (("auth_protocol", auth_protocol, "auth_key", auth_key),
                                         ("priv_protocol", priv_protocol, "priv_key", priv_key)):
        if version == "3" and protocol != "none" and not value:
            table.problem(key, f"SNMPv3 with {key} {protocol} needs {secret} in {secrets.where(secret)}")
            complete = False
    if not complete:
        return None
    return SnmpSettings(host=host, port=port, version=version, notify=notify, community=community or "", user=user,
                        auth_protocol=auth_protocol, auth_key=auth_key, priv_protocol=priv_protocol,
                        priv_key=priv_key, base_oid=base_oid)


_READERS: dict[str, Callable[[Table, Table], ChannelOptions | None]] = {
    "webhook": _webhook, "email": _email, "snmp": _snmp}
