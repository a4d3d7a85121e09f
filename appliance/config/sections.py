"""The sections of commander.toml, each read through ``configfile.Table``.

``SECTIONS`` maps a section to its reader, in reading order: a reader takes the file's top level
and the ``Context`` (the [commander] section, the secrets, the sections read before it) and returns
the Config field of the section's name. Adding a section is one reader, one line here and one field
of Config. [commander] is read first and apart, as its keys are Config's own and ``load_state_dir``
reads it alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from appliance.alerts.settings import AlertSettings, ChannelSettings
from appliance.config.model import (
    AUTH_PROTOCOLS, PRIV_PROTOCOLS, ROLES, SNMP_VERSIONS, SNMPV3_MIN_PASSWORD, AsicSentry, AsicSentryLink, Config,
    Discovery, Intervals, Miner, Sentry, Site, Web, WebUser, site_of,
)
from appliance.config.secrets_file import Secrets
from appliance.placement import PlaceRule, place_rule
from appliance.store.settings import StorageSettings
from collectors.asic import DRIVERS
from collectors.credentials import Credential
from collectors.targets import MAX_ADDRESSES, Subnet
from configfile import Place, Table, Wrong, did_you_mean, kinds


@dataclass(frozen=True)
class Commander:
    """The [commander] section: Config's own keys."""

    state_dir: Path = Config.state_dir
    site: str = Config.default_site
    name: str | None = Config.name


def commander(root: Table) -> Commander:
    table = root.table("commander")
    section = Commander(table.get("state_dir", kinds.path, Commander.state_dir),
                        table.get("site", kinds.name, Commander.site),
                        table.get("name", kinds.text, Commander.name))
    table.done()
    return section


class Context:
    """What a section's reader may use besides its own table."""

    def __init__(self, commander: Commander, secrets: Secrets) -> None:
        self.commander, self.secrets = commander, secrets
        self.read: dict[str, Any] = {}  # each section read so far, by name

    @property
    def sites(self) -> tuple[Site, ...]:
        return self.read["sites"]

    @property
    def site_names(self) -> dict[str, Site]:
        """Every site by name, the default site included."""
        return {self.commander.site: Site(self.commander.site), **{site.name: site for site in self.sites}}


def read(root: Table, secrets: Secrets) -> Config:
    """The whole file, every mistake recorded in its document."""
    known = ("commander", *SECTIONS)
    for key in root.data:
        if key not in known:
            root.problem(key, f"unknown section [{key}]{did_you_mean(key, known, '[{}]')}")
    head = commander(root)
    context = Context(head, secrets)
    for name, reader in SECTIONS.items():
        context.read[name] = reader(root, context)
    return Config(**context.read, state_dir=head.state_dir, default_site=head.site, name=head.name)


def _subnets(table: Table) -> list[tuple[Subnet, Place]]:
    """The "subnets" of ``table``, each with its place; a wrong one is said and left out."""
    found = []
    for n, text in enumerate(table.get("subnets", kinds.texts, ())):
        try:
            found.append((kinds.subnet(text), table.place + ("subnets", n)))
        except Wrong as exc:
            table.problem(("subnets", n), f"'{text}' in {table.name} subnets is not {exc}")
    return found


def _sites(root: Table, context: Context) -> tuple[Site, ...]:
    sites: list[Site] = []
    lines: dict[str, int | None] = {}
    claimed: list[tuple[Subnet, str | None, Place]] = []
    for table in root.tables("sites"):
        name = table.get("name", kinds.name)
        racks = table.get("racks", kinds.texts, ())
        place_by = table.get("place_by", _place_rule, None)
        subnets = []
        for subnet, place in _subnets(table):
            for other, owner, other_place in claimed:
                if subnet.first <= other.last and other.first <= subnet.last:
                    table.document.problem(place, f"'{subnet.text}' overlaps '{other.text}' of site '{owner}' "
                                                  f"(line {table.document.line(other_place)})")
                    break
            claimed.append((subnet, name, place))
            subnets.append(subnet)
        table.done()
        if name in lines:
            table.problem("name", f"site '{name}' is already defined on line {lines[name]}")
        elif name is not None:
            lines[name] = table.line()
            sites.append(Site(name, tuple(subnets), racks, place_by))
    return tuple(sites)


def _place_rule(value: Any) -> PlaceRule:
    try:
        return place_rule(kinds.string(value))
    except ValueError as exc:
        raise Wrong(str(exc)) from None


def _discovery(root: Table, context: Context) -> Discovery:
    table = root.table("discovery")
    listed = _subnets(table) if "subnets" in table.data else None
    concurrency = table.get("concurrency", kinds.count, Discovery.concurrency)
    timeout_s = table.get("timeout_s", kinds.seconds, Discovery.timeout_s)
    table.done()
    # What the sites hold is what discovery scans, unless it is told otherwise.
    subnets = listed if listed is not None else [
        (net, ("sites", s, "subnets", n)) for s, site in enumerate(context.sites) for n, net in enumerate(site.subnets)]
    for subnet, place in subnets:
        if subnet.size > MAX_ADDRESSES:
            table.document.problem(place, f"'{subnet.text}' holds {subnet.size:,} addresses, more than discovery "
                                          f"scans ({MAX_ADDRESSES:,}): list narrower subnets")
    return Discovery(tuple(subnet.text for subnet, _ in subnets), concurrency, timeout_s)


def _placement(table: Table, address: str | None, context: Context) -> tuple[str, str | None, str | None,
                                                                          tuple[str, ...]]:
    """site, rack, location, tags of a miner or a sentry."""
    site = table.get("site", kinds.name, None)
    rack = table.get("rack", kinds.text, None)
    location = table.get("location", kinds.text, None)
    tags = table.get("tags", kinds.texts, ())
    sites = context.site_names
    if site is not None and site not in sites:
        table.problem("site", f"unknown site '{site}'{did_you_mean(site, sites)}: "
                              f"name one of the [[sites]] or '{context.commander.site}'")
    if site is None:
        site = site_of(context.sites, context.commander.site, address)
    racks = sites[site].racks if site in sites else ()
    if rack is not None and racks and rack not in racks:
        table.problem("rack", f"rack '{rack}' is not one of site '{site}''s racks{did_you_mean(rack, racks)}")
    return site, rack, location, tags


def _miners(root: Table, context: Context) -> tuple[Miner, ...]:
    miners = []
    lines: dict[str, int | None] = {}
    for table in root.tables("miners"):
        address = table.get("ip", kinds.address)
        driver = table.get("driver", kinds.text, None)
        ip, port = address if address else (None, None)
        placement = _placement(table, ip, context)
        table.done()
        if driver is not None and driver not in DRIVERS:
            table.problem("driver", f"unknown driver '{driver}' in [[miners]]{did_you_mean(driver, DRIVERS)}")
        if ip is None:
            continue
        if ip in lines:
            table.problem("ip", f"miner {ip} is already listed on line {lines[ip]}")
            continue
        lines[ip] = table.line("ip")
        miners.append(Miner(ip, port, driver, *placement))
    return tuple(miners)


def _credentials(root: Table, context: Context) -> Mapping[str, tuple[Credential, ...]]:
    """[credentials.NAME], NAME a driver or any name with ``driver``; ``sites`` and ``subnets``
    limit where its password is offered (the sites' subnets and the miners listed at them)."""
    table = root.table("credentials")
    sites, miners = context.site_names, context.read["miners"]
    found: dict[str, list[Credential]] = {}
    for name, entry in table.data.items():
        one = table.table(name)
        if not isinstance(entry, dict):
            continue  # said by table(); what such an entry lacks is no news
        driver = one.get("driver", kinds.text, name)
        username = one.get("username", kinds.text)
        limited_to = one.get("sites", kinds.texts, ())
        subnets = [subnet for subnet, _ in _subnets(one)]
        secret = ("credentials", name, "password")
        one.done(secrets={"password": context.secrets.where(secret)})
        if driver not in DRIVERS:
            context.secrets.get(secret)  # asked for: the typo is the driver's, not the secret's
            one.problem("driver" if "driver" in one.data else (), (
                f"unknown driver '{driver}' in {one.name}{did_you_mean(driver, DRIVERS)}"
                + ("" if "driver" in one.data else "; a credential under another name says whose it is "
                                                  "with driver = \"...\"")))
            continue
        for n, site in enumerate(limited_to):
            if site not in sites:
                one.problem(("sites", n), f"unknown site '{site}' in {one.name}{did_you_mean(site, sites)}")
                continue
            subnets += sites[site].subnets
            subnets += [kinds.subnet(m.ip) for m in miners if m.site == site]
            if not sites[site].subnets and not any(m.site == site for m in miners):
                one.problem(("sites", n), f"site '{site}' has no subnets and no miners listed, so {one.name} "
                                          "would be offered to no device")
        password = context.secrets.require(secret, f"the password for {one.name}", one)
        if username is not None and password is not None:
            found.setdefault(driver, []).append(Credential(username, password, tuple(subnets)))
    return MappingProxyType({driver: tuple(entries) for driver, entries in found.items()})


def _sentries(root: Table, context: Context) -> tuple[Sentry, ...]:
    sentries = []
    lines: dict[tuple[str, int], int | None] = {}
    for table in root.tables("sentries"):
        host = table.get("host", kinds.host)
        port = table.get("port", kinds.port, Sentry.port)
        version = table.get("version", kinds.choice(*SNMP_VERSIONS), Sentry.version)
        user = table.get("user", kinds.text, None)
        auth = table.get("auth_protocol", kinds.choice(*AUTH_PROTOCOLS), None)
        priv = table.get("priv_protocol", kinds.choice(*PRIV_PROTOCOLS), None)
        placement = _placement(table, host, context)
        where = context.secrets.where
        table.done(secrets={
            "community": where(("snmp", "community")),
            "auth_password": where(("snmp", "users", user or "USER", "auth_password")),
            "priv_password": where(("snmp", "users", user or "USER", "priv_password")),
        })
        secrets = _snmp_secrets(table, context.secrets, version, user, auth, priv)
        if host is None:
            continue
        if (host, port) in lines:
            table.problem("host", f"sentry {host}:{port} is already listed on line {lines[host, port]}")
            continue
        lines[host, port] = table.line("host")
        sentries.append(Sentry(host, port, version, secrets[0], user, auth, secrets[1], priv, secrets[2], *placement))
    return tuple(sentries)


def _snmp_secrets(table: Table, secrets: Secrets, version: str, user: str | None, auth: str | None,
                  priv: str | None) -> tuple[str | None, str | None, str | None]:
    """(community, auth password, privacy password) for one sentry, checked against its version."""
    if version == "v2c":
        for key in ("user", "auth_protocol", "priv_protocol"):
            if key in table.data:
                table.problem(key, f"'{key}' applies to version = 'v3' only")
        return secrets.require(("snmp", "community"), "the SNMP community for v2c sentries", table), None, None
    if user is None:
        if "user" not in table.data:
            table.problem((), "missing required key 'user' in [[sentries]] with version = 'v3'")
        return None, None, None
    if priv is not None and auth is None:
        table.problem("priv_protocol", "'priv_protocol' needs an 'auth_protocol' too (SNMPv3 has no privacy "
                                       "without authentication)")
        return None, None, None
    passwords = []
    for protocol, kind in ((auth, "auth"), (priv, "priv")):
        password = secrets.require(("snmp", "users", user, f"{kind}_password"),
                                   f"the {kind} password of SNMPv3 user '{user}'", table,
                                   f"{kind}_protocol") if protocol else None
        if password is not None and len(password) < SNMPV3_MIN_PASSWORD:
            table.problem(f"{kind}_protocol", f"the {kind} password of SNMPv3 user '{user}' has fewer than "
                                              f"{SNMPV3_MIN_PASSWORD} characters, which SNMPv3 refuses")
        passwords.append(password)
    return None, passwords[0], passwords[1]


def _intervals(root: Table, context: Context) -> Intervals:
    table = root.table("intervals")
    intervals = Intervals(
        poll_s=table.get("poll_s", kinds.seconds, Intervals.poll_s),
        sentries_s=table.get("sentries_s", kinds.seconds, Intervals.sentries_s),
        discovery_s=table.get("discovery_s", kinds.seconds_or_zero, Intervals.discovery_s),
        compaction_s=table.get("compaction_s", kinds.seconds, Intervals.compaction_s),
    )
    table.done()
    return intervals


def _storage(root: Table, context: Context) -> StorageSettings:
    return StorageSettings.read(root.table("storage"), context.commander.state_dir)


def _alerts(root: Table, context: Context) -> AlertSettings:
    return AlertSettings.read(root.table("alerts"))


def _channels(root: Table, context: Context) -> tuple[ChannelSettings, ...]:
    channels = (ChannelSettings.read(table, lambda name: context.secrets.table(("channels", name)))
                for table in root.tables("channels"))
    return tuple(channel for channel in channels if channel is not None)


def _argon2_hash(value: Any) -> str:
    """A web user's password hash as `minerwatch user passwd` makes them: the web could never
    check a password against anything else, and the user could not sign in."""
    try:
        extract_parameters(kinds.string(value))
    except InvalidHashError:
        raise Wrong("an Argon2 hash ($argon2id$v=19$m=...)") from None
    return value


def _web(root: Table, context: Context) -> Web:
    table = root.table("web")
    users = []
    lines: dict[str, int | None] = {}
    for user in table.tables("users"):
        name = user.get("name", kinds.name)
        role = user.get("role", kinds.choice(*ROLES), WebUser.role)
        secret = ("web", "users", name or "NAME", "password_hash")
        where = context.secrets.where(secret)
        user.done(secrets={"password": where, "password_hash": where})
        if name is None:
            continue
        if name in lines:
            user.problem("name", f"web user '{name}' is already defined on line {lines[name]}")
            continue
        lines[name] = user.line()
        users.append(WebUser(name, role, context.secrets.table(secret[:-1]).get(secret[-1], _argon2_hash, None)))
    listen = table.get("listen", kinds.listen, Web.listen)
    trusted_proxy = table.get("trusted_proxy", kinds.ip, Web.trusted_proxy)
    tls_cert = table.get("tls_cert", kinds.path, Web.tls_cert)
    tls_key = table.get("tls_key", kinds.path, Web.tls_key)
    if (tls_cert is None) != (tls_key is None):
        given, missing = ("tls_cert", "tls_key") if tls_key is None else ("tls_key", "tls_cert")
        table.problem(given, f"[web] {given} needs {missing} beside it: HTTPS takes the certificate and its key")
    vip_url = table.get("vip_url", _web_url, Web.vip_url)
    table.done()
    return Web(tuple(users), listen, trusted_proxy, tls_cert, tls_key, vip_url)


_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")


def _fingerprint(value: Any) -> str:
    text = kinds.string(value).lower()
    if not _FINGERPRINT.fullmatch(text):
        raise Wrong("a certificate's fingerprint as `minerwatch pki list` prints it (sha256:<64 hex digits>)")
    return text


def _https_url(value: Any) -> str:
    text = kinds.string(value)
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise Wrong("an https:// address and port, nothing after them (https://10.2.0.2:8443)")
    return text.rstrip("/")


def _web_url(value: Any) -> str:
    text = kinds.string(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Wrong("an http:// or https:// address (https://10.0.0.10:8443/)")
    return text


def _asic_sentry(root: Table, context: Context) -> AsicSentry | None:
    if "asic_sentry" not in root.data:
        return None
    table = root.table("asic_sentry")
    section = AsicSentry(
        name=table.get("name", kinds.name), listen=table.get("listen", kinds.listen),
        tls_cert=table.get("tls_cert", kinds.path), tls_key=table.get("tls_key", kinds.path),
        tls_ca=table.get("tls_ca", kinds.path),
        buffer_max_bytes=table.get("buffer_max_bytes", kinds.count, AsicSentry.buffer_max_bytes),
        buffer_reserve_bytes=table.get("buffer_reserve_bytes", kinds.count, AsicSentry.buffer_reserve_bytes))
    table.done()
    return section


def _asic_sentries(root: Table, context: Context) -> tuple[AsicSentryLink, ...]:
    links, lines = [], {}
    for table in root.tables("asic_sentries"):
        name = table.get("name", kinds.name)
        url = table.get("url", _https_url)
        fingerprint = table.get("fingerprint", _fingerprint)
        site = table.get("site", kinds.name, context.commander.site)
        sites = context.site_names
        if site not in sites:
            table.problem("site", f"unknown site '{site}'{did_you_mean(site, sites)}: "
                                  f"name one of the [[sites]] or '{context.commander.site}'")
        table.done()
        if None in (name, url, fingerprint):
            continue
        if name in lines:
            table.problem("name", f"ASIC sentry '{name}' is already listed on line {lines[name]}")
            continue
        lines[name] = table.line("name")
        links.append(AsicSentryLink(name, url, fingerprint, site))
    return tuple(links)


# Reading order: sites before those that name a site, miners before credentials offered at their sites.
SECTIONS: dict[str, Callable[[Table, Context], Any]] = {
    "sites": _sites,
    "discovery": _discovery,
    "miners": _miners,
    "credentials": _credentials,
    "sentries": _sentries,
    "intervals": _intervals,
    "storage": _storage,
    "alerts": _alerts,
    "channels": _channels,
    "web": _web,
    "asic_sentry": _asic_sentry,
    "asic_sentries": _asic_sentries,
}
