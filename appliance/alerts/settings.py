"""The ``[alerts]`` and ``[[channels]]`` tables, validated into frozen dataclasses.

The configuration loader reads the TOML and calls ``AlertSettings.from_mapping`` and
``ChannelSettings.from_mapping`` with a ``where`` that names the file and table; every error is one
sentence that starts with it. Unknown keys are errors. Secrets (SMTP password, webhook URL or token,
SNMP community and keys) come from a separate mapping, one table per channel name, and are kept out
of every ``repr`` so they cannot reach a log line; putting one in the main file is an error.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from appliance.alerts.rules import RULES
from collectors import mib

SEVERITIES = ("critical", "warning", "info")  # most urgent first
# MINERWATCH-MIB's module OID, under which the snmp channel's notifications and objects sit.
DEFAULT_BASE_OID = mib.dotted(mib.BASE)


class SettingsError(ValueError):
    """A configuration mistake, as one sentence naming the file and table."""


class _Table:
    """One TOML table being read: typed getters, and a check that nothing unknown was left."""

    def __init__(self, table: Mapping[str, Any], where: str) -> None:
        if not isinstance(table, Mapping):
            raise SettingsError(f"{where} must be a table, not {type(table).__name__}")
        self.table, self.where, self.used = table, where, set()

    def get(self, key: str, default: Any, kind: type | tuple[type, ...]) -> Any:
        self.used.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise SettingsError(f"{self.where}: {key} must be {_kind_name(kind)}, not {value!r}")
        return value

    def number(self, key: str, default: float | None, minimum: float = 0.0) -> float | None:
        value = self.get(key, default, (int, float))
        if value is not None and value < minimum:
            raise SettingsError(f"{self.where}: {key} must be at least {minimum:g}, not {value!r}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(key, default, str)
        if value not in choices:
            raise SettingsError(f"{self.where}: {key} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def strings(self, key: str, default: list[str]) -> tuple[str, ...]:
        value = self.get(key, default, list)
        if not all(isinstance(item, str) for item in value):
            raise SettingsError(f"{self.where}: {key} must be a list of strings")
        return tuple(value)

    def done(self, secret_keys: tuple[str, ...] = ()) -> None:
        for key in self.table:
            if key in secret_keys:
                raise SettingsError(f"{self.where}: {key} is a secret; put it in the secrets file, not here")
            if key not in self.used:
                raise SettingsError(f"{self.where}: unknown key {key!r}; known: {', '.join(sorted(self.used))}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {bool: "true or false", int: "a number", float: "a number", str: "text", list: "a list",
             dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


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
    def default(cls, name: str) -> RuleSettings:
        return cls.from_mapping(name, {}, f"rule {name}")

    @classmethod
    def from_mapping(cls, name: str, table: Mapping[str, Any], where: str) -> RuleSettings:
        rule = RULES[name]
        t = _Table(table, where)
        options = {}
        for key, default in rule.options.items():
            if key in rule.choices:
                options[key] = t.choice(key, default, rule.choices[key])
            elif isinstance(default, list):
                options[key] = t.strings(key, default)
            else:
                options[key] = int(t.number(key, default, minimum=1))
        settings = cls(
            name=name,
            enabled=t.get("enabled", True, bool),
            hold_s=t.number("hold_s", rule.hold_s),
            # Rules with no number to compare (dead board, wrong pool) take no threshold.
            threshold=t.number("threshold", rule.threshold) if rule.threshold is not None else None,
            hysteresis=t.number("hysteresis", rule.hysteresis) if rule.threshold is not None else 0.0,
            severity=t.choice("severity", rule.severity, SEVERITIES),
            options=MappingProxyType(options),
        )
        t.done()
        return settings


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
    def from_mapping(cls, table: Mapping[str, Any], where: str) -> AlertSettings:
        t = _Table(table, where)
        rule_tables = t.get("rules", {}, dict)
        for name in rule_tables:
            if name not in RULES:
                raise SettingsError(f"{where}: unknown rule {name!r}; known: {', '.join(RULES)}")
        rules = {name: RuleSettings.from_mapping(name, rule_tables.get(name, {}), f"{where} rules.{name}")
                 for name in RULES}
        summary = t.get("summary_at", "08:00", str)
        try:
            summary_at = dt.time.fromisoformat(summary) if summary else None
        except ValueError:
            raise SettingsError(f"{where}: summary_at must be a time such as \"08:00\", not {summary!r}") from None
        settings = cls(
            rules=MappingProxyType(rules),
            ha_role_file=Path(t.get("ha_role_file", str(cls.ha_role_file), str)),
            heartbeat_url=t.get("heartbeat_url", None, str) or None,
            heartbeat_method=t.choice("heartbeat_method", "GET", ("GET", "POST", "HEAD")),
            heartbeat_timeout_s=t.number("heartbeat_timeout_s", 10.0, minimum=0.1),
            summary_at=summary_at,
            queue_size=int(t.number("queue_size", 1000, minimum=1)),
            history_days=t.number("history_days", cls.history_days, minimum=1),
        )
        t.done()
        return settings


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


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    kind: str  # webhook | email | snmp
    options: WebhookSettings | EmailSettings | SnmpSettings
    retry: RetrySettings = RetrySettings()
    min_severity: str = "info"

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str, secrets: Mapping[str, Any] | None = None
                     ) -> ChannelSettings:
        """``secrets``: this channel's table of the secrets file (``[channels.NAME]``)."""
        t = _Table(table, where)
        name = t.get("name", None, str)
        if not name:
            raise SettingsError(f"{where}: every channel needs a name")
        where = f"{where} (channel {name})"
        t.where = where
        if "type" not in table:
            raise SettingsError(f"{where}: type is missing; it is one of {', '.join(SECRETS_ONLY)}")
        kind = t.choice("type", "", tuple(SECRETS_ONLY))
        s = _Table(secrets or {}, f"secrets of channel {name}")
        options = _READERS[kind](t, s, where)
        retry = RetrySettings(
            attempts=int(t.number("retry_attempts", RetrySettings.attempts, minimum=1)),
            base_s=t.number("retry_base_s", RetrySettings.base_s, minimum=0.001),
            max_s=t.number("retry_max_s", RetrySettings.max_s, minimum=0.001),
            timeout_s=t.number("timeout_s", RetrySettings.timeout_s, minimum=0.1),
        )
        settings = cls(name=name, kind=kind, options=options, retry=retry,
                       min_severity=t.choice("min_severity", "info", SEVERITIES))
        t.done(secret_keys=SECRETS_ONLY[kind])
        s.done()
        return settings


def _webhook(t: _Table, s: _Table, where: str) -> WebhookSettings:
    preset = t.choice("preset", "generic", WEBHOOK_PRESETS)
    # A plain receiver's URL may live in the main file; Slack's and Discord's carry their credential.
    url = s.get("url", None, str) or t.get("url", None, str)
    token = s.get("token", None, str)
    chat_id = t.get("chat_id", None, (str, int))
    if preset == "telegram":
        if not token or chat_id is None:
            raise SettingsError(f"{where}: the telegram preset needs chat_id here and token in the secrets file")
        url = url or TELEGRAM_API
    elif not url:
        raise SettingsError(f"{where}: url is missing (here, or in the secrets file when it holds a credential)")
    headers = t.get("headers", {}, dict)
    if not all(isinstance(value, str) for value in headers.values()):
        raise SettingsError(f"{where}: headers must map names to text")
    return WebhookSettings(preset=preset, url=url, chat_id=None if chat_id is None else str(chat_id),
                           headers=MappingProxyType(dict(headers)), token=token)


def _email(t: _Table, s: _Table, where: str) -> EmailSettings:
    host, sender = t.get("host", None, str), t.get("from", None, str)
    to = t.strings("to", [])
    if not host or not sender or not to:
        raise SettingsError(f"{where}: an email channel needs host, from and to")
    security = t.choice("security", "starttls", ("starttls", "tls", "none"))
    username = t.get("username", None, str)
    password = s.get("password", None, str)
    if username and password is None:
        raise SettingsError(f"{where}: username is set but the secrets file has no password for it")
    ca_file = t.get("ca_file", None, str)
    return EmailSettings(host=host, sender=sender, to=to, security=security, username=username,
                         password=password, ca_file=Path(ca_file) if ca_file else None,
                         port=int(t.number("port", 465 if security == "tls" else 587, minimum=1)))


def _snmp(t: _Table, s: _Table, where: str) -> SnmpSettings:
    host = t.get("host", None, str)
    if not host:
        raise SettingsError(f"{where}: an snmp channel needs host, the NMS's trap receiver")
    version = t.choice("version", "2c", ("2c", "3"))
    # An inform is acknowledged, so the retry knows it arrived; v3 makes it the default.
    notify = t.choice("notify", "inform" if version == "3" else "trap", ("trap", "inform"))
    user = t.get("user", None, str)
    auth_protocol = t.choice("auth_protocol", "SHA", ("SHA", "SHA256", "SHA512", "MD5", "none"))
    priv_protocol = t.choice("priv_protocol", "AES", ("AES", "AES256", "DES", "none"))
    auth_key, priv_key = s.get("auth_key", None, str), s.get("priv_key", None, str)
    community = s.get("community", None, str)
    # No default: "public" is what every scanner tries, and the NMS would take forged alerts with it.
    if version == "2c" and not community:
        raise SettingsError(f"{where}: SNMPv2c needs the community the NMS's trap receiver accepts, "
                            "as community in the secrets file")
    if version == "3":
        if not user:
            raise SettingsError(f"{where}: SNMPv3 needs user")
        if auth_protocol != "none" and not auth_key or priv_protocol != "none" and not priv_key:
            raise SettingsError(f"{where}: SNMPv3 with auth_protocol {auth_protocol} and priv_protocol "
                                f"{priv_protocol} needs auth_key and priv_key in the secrets file")
    base_oid = t.get("base_oid", DEFAULT_BASE_OID, str)
    if not all(part.isdigit() for part in base_oid.split(".")):
        raise SettingsError(f"{where}: base_oid must be dotted numbers, not {base_oid!r}")
    return SnmpSettings(host=host, port=int(t.number("port", 162, minimum=1)), version=version, notify=notify,
                        community=community or "", user=user, auth_protocol=auth_protocol,
                        auth_key=auth_key, priv_protocol=priv_protocol, priv_key=priv_key, base_oid=base_oid)


_READERS = {"webhook": _webhook, "email": _email, "snmp": _snmp}
