"""The commander's configuration as the rest of the commander sees it: frozen dataclasses, secrets
kept out of every repr."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from appliance.alerts.settings import AlertSettings, ChannelSettings
from appliance.placement import PlaceRule
from appliance.store.settings import DEFAULT_STATE_DIR, StorageSettings
from collectors.credentials import Credential
from collectors.targets import Subnet

ROLES = ("admin", "operator", "viewer")
SNMP_VERSIONS = ("v2c", "v3")
# net-snmp's spelling (snmpget -a / -x), which is what a farm's NMS admin types.
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV_PROTOCOLS = ("DES", "AES", "AES-192", "AES-256")
SNMPV3_MIN_PASSWORD = 8  # RFC 3414 keys need 8 characters; net-snmp refuses shorter ones




@dataclass(frozen=True)
class Site:
    name: str
    subnets: tuple[Subnet, ...] = ()  # addresses that belong to the site (a discovered device's site)
    racks: tuple[str, ...] = ()  # when given, a device's rack must be one of these
    place_by: PlaceRule | None = None  # where a device nobody placed stands, from its address or name


@dataclass(frozen=True)
class Discovery:
    subnets: tuple[str, ...] = ()  # for collectors.targets.expand; default: every site's subnets
    concurrency: int = 200  # addresses probed at once
    timeout_s: float = 3.0  # per address, identification included


@dataclass(frozen=True)
class Miner:
    """A miner listed in the configuration (polled whether or not discovery finds it)."""

    ip: str
    port: int | None = None  # None: the driver's own port
    driver: str | None = None  # None: identified on first contact
    site: str = "default"
    rack: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sentry:
    """A CPU/GPU rig whose sentry the commander polls over SNMP."""

    host: str
    port: int = 161
    version: str = "v2c"
    community: str | None = field(default=None, repr=False)  # v2c
    user: str | None = None  # v3
    auth_protocol: str | None = None  # v3, one of AUTH_PROTOCOLS; None: noAuthNoPriv
    auth_password: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None  # v3, one of PRIV_PROTOCOLS; None: no privacy
    priv_password: str | None = field(default=None, repr=False)
    site: str = "default"
    rack: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intervals:
    poll_s: float = 30  # every ASIC
    sentries_s: float = 30  # every rig's sentry
    discovery_s: float = 3600  # 0: discovery runs on demand only
    compaction_s: float = 300  # storage upkeep: rollups, compaction, retention ([storage] says how long)


@dataclass(frozen=True)
class WebUser:
    name: str
    role: str = "viewer"  # one of ROLES
    password_hash: str | None = field(default=None, repr=False)  # None: none until `minerwatch user passwd`


@dataclass(frozen=True)
class Web:
    users: tuple[WebUser, ...] = ()
    listen: tuple[str, int] = ("127.0.0.1", 8080)  # address and port `minerwatch web` serves on
    # The reverse proxy (TLS) in front of the web: only its X-Forwarded-For/-Proto are believed,
    # which give the client's address (rate limits, audit log) and https (Secure cookies).
    trusted_proxy: str | None = None
    # HTTPS served by the web itself (PEM files), for a farm without a reverse proxy: both or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # The web's address on the HA pair's virtual IP, which always reaches the MASTER: a BACKUP's
    # pages link there.
    vip_url: str | None = None


@dataclass(frozen=True)
class AsicSentry:
    """[asic_sentry]: this machine is an ASIC sentry, polling its site for a commander."""

    name: str  # as its certificate names it (`minerwatch pki issue NAME --for sentry`)
    listen: tuple[str, int]  # where the commander pulls from (HTTPS, mutual TLS)
    tls_cert: Path  # its certificate, its key, and the farm CA's certificate (clients must bear one it signed)
    tls_key: Path
    tls_ca: Path
    # 7 days of 5,000 miners at 30 s take 16.4 GB: 163 bytes a miner a cycle (1,724 as JSON, zstd), measured
    # over 300 of simfarm's miners of every make.
    buffer_max_bytes: int = 24 * 2**30
    buffer_reserve_bytes: int = 512 * 2**20  # free space the buffer leaves to the rest of the system


@dataclass(frozen=True)
class AsicSentryLink:
    """[[asic_sentries]]: an ASIC sentry this commander pulls from."""

    name: str
    url: str  # "https://10.2.0.2:8443"
    fingerprint: str  # "sha256:<64 hex>", its certificate's: a certificate of another sentry is refused
    site: str = "default"  # the site of the miners it polls


@dataclass(frozen=True)
class Config:
    sites: tuple[Site, ...]
    discovery: Discovery
    miners: tuple[Miner, ...]
    credentials: Mapping[str, tuple[Credential, ...]]  # by driver name; Credential hides its password in repr
    sentries: tuple[Sentry, ...]
    intervals: Intervals
    storage: StorageSettings
    alerts: AlertSettings
    channels: tuple[ChannelSettings, ...]
    web: Web
    asic_sentry: AsicSentry | None = None  # set: this machine is an ASIC sentry
    asic_sentries: tuple[AsicSentryLink, ...] = ()
    state_dir: Path = DEFAULT_STATE_DIR
    default_site: str = "default"  # the site of a device no [[sites]] subnet holds
    name: str | None = None  # the farm's name, for the NMS (MINERWATCH-MIB mwFarmName); None: the host name

    def site_for(self, ip: str) -> str:
        """The site whose subnets hold ``ip`` (the first listed wins), else the default site."""
        return site_of(self.sites, self.default_site, ip)


def site_of(sites: Iterable[Site], default_site: str, ip: str | None) -> str:
    """The first of ``sites`` whose subnets hold ``ip``, else ``default_site``."""
    return next((site.name for site in sites if any(ip in net for net in site.subnets)), default_site)
