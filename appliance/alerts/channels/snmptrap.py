"""SNMP notifications to the farm's NMS: SNMPv2c traps, or informs (acknowledged) in v2c or v3 (USM).

The notification and its objects, for MINERWATCH-MIB to declare (``OIDS`` is the one table; BASE
is ``base_oid``, by default net-snmp's experimental playpen 1.3.6.1.4.1.8072.9999.9999):

    BASE.7          mwAlerts
    BASE.7.0.1      mwAlertFired      NOTIFICATION-TYPE  OBJECTS { the nine below }
    BASE.7.0.2      mwAlertResolved   NOTIFICATION-TYPE  OBJECTS { the nine below }
    BASE.7.1.1      mwAlertId         DisplayString   "10.0.0.5/temp_chip/board:1"
    BASE.7.1.2      mwAlertDevice     DisplayString   miner IP or rig host
    BASE.7.1.3      mwAlertRule       DisplayString   rule name, as in [alerts.rules.NAME]
    BASE.7.1.4      mwAlertPart       DisplayString   "", "board:N", "fan:N", "gpu:<bus id>", "boards"
    BASE.7.1.5      mwAlertSeverity   INTEGER { critical(1), warning(2), info(3) }
    BASE.7.1.6      mwAlertValue      DisplayString   the measured value with its unit, "97.5 °C"
    BASE.7.1.7      mwAlertThreshold  DisplayString   the limit with its unit
    BASE.7.1.8      mwAlertMessage    DisplayString   the rule's sentence
    BASE.7.1.9      mwAlertTime       DisplayString   ISO 8601 UTC of the transition

The objects are accessible-for-notify scalars, sent with the instance ``.0``; text is ASCII, cut
to DisplayString's 255 octets. sysUpTime.0 is the time since the channel started. The daily
summary is not sent: an NMS keeps its own.
"""

from __future__ import annotations

import time
import unicodedata

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    Integer32,
    ObjectIdentifier,
    OctetString,
    SnmpEngine,
    TimeTicks,
    UdpTransportTarget,
    UsmUserData,
    send_notification,
    usmAesBlumenthalCfb256Protocol,
    usmAesCfb128Protocol,
    usmDESPrivProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoAuthProtocol,
    usmNoPrivProtocol,
)

from appliance.alerts.channels import DeliveryError
from appliance.alerts.message import Message, iso
from appliance.alerts.rules import RULES
from appliance.alerts.settings import ChannelSettings, SnmpSettings

SYS_UP_TIME = "1.3.6.1.2.1.1.3.0"  # SNMPv2-MIB::sysUpTime.0
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"  # SNMPv2-MIB::snmpTrapOID.0

# Suffixes under base_oid: the layout MINERWATCH-MIB declares.
OIDS = {
    "fired": "7.0.1",
    "resolved": "7.0.2",
    "id": "7.1.1",
    "device": "7.1.2",
    "rule": "7.1.3",
    "part": "7.1.4",
    "severity": "7.1.5",
    "value": "7.1.6",
    "threshold": "7.1.7",
    "message": "7.1.8",
    "time": "7.1.9",
}
SEVERITY_NUMBERS = {"critical": 1, "warning": 2, "info": 3}

_AUTH = {"SHA": usmHMACSHAAuthProtocol, "SHA256": usmHMAC192SHA256AuthProtocol,
         "SHA512": usmHMAC384SHA512AuthProtocol, "MD5": usmHMACMD5AuthProtocol, "none": usmNoAuthProtocol}
# net-snmp's "AES256" is the Blumenthal key extension (its Cisco-style one is "AES256C").
_PRIV = {"AES": usmAesCfb128Protocol, "AES256": usmAesBlumenthalCfb256Protocol, "DES": usmDESPrivProtocol,
         "none": usmNoPrivProtocol}


def _text(value: object) -> OctetString:
    # DisplayString is NVT ASCII, and NMSs show anything else as hex: "97.5 °C" goes as "97.5 C".
    ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore")
    return OctetString(ascii_text[:255])


def _with_unit(value: float | str | None, rule: str) -> str:
    if value is None:
        return ""
    unit = RULES[rule].unit if isinstance(value, (int, float)) else ""
    return f"{value:g} {unit}".strip() if isinstance(value, float) else f"{value} {unit}".strip()


def varbinds(message: Message, base_oid: str, uptime_s: float) -> list[tuple[str, object]]:
    oid = {name: f"{base_oid}.{suffix}" for name, suffix in OIDS.items()}
    return [
        (SYS_UP_TIME, TimeTicks(int(uptime_s * 100) % 2**32)),
        (SNMP_TRAP_OID, ObjectIdentifier(oid[message.kind])),
        (oid["id"] + ".0", _text(message.alert_id)),
        (oid["device"] + ".0", _text(message.device)),
        (oid["rule"] + ".0", _text(message.rule)),
        (oid["part"] + ".0", _text(message.part or "")),
        (oid["severity"] + ".0", Integer32(SEVERITY_NUMBERS[message.severity])),
        (oid["value"] + ".0", _text(_with_unit(message.value, message.rule))),
        (oid["threshold"] + ".0", _text(_with_unit(message.threshold, message.rule))),
        (oid["message"] + ".0", _text(message.message or "")),
        (oid["time"] + ".0", _text(iso(message.at))),
    ]


class SnmpTrapChannel:
    def __init__(self, settings: ChannelSettings) -> None:
        self.name, self.settings = settings.name, settings
        self.options: SnmpSettings = settings.options
        self._engine: SnmpEngine | None = None
        self._started = time.monotonic()

    def _auth(self) -> CommunityData | UsmUserData:
        o = self.options
        if o.version == "2c":
            return CommunityData(o.community, mpModel=1)
        return UsmUserData(o.user, authKey=o.auth_key, privKey=o.priv_key,
                           authProtocol=_AUTH[o.auth_protocol], privProtocol=_PRIV[o.priv_protocol])

    async def send(self, message: Message) -> None:
        if message.kind == "summary":
            return
        o = self.options
        # pysnmp binds its transport to the loop that first uses the engine: made here, not in __init__.
        self._engine = self._engine or SnmpEngine()
        # The dispatcher retries with back-off; pysnmp's own retries would only hide a lost inform.
        target = await UdpTransportTarget.create((o.host, o.port), timeout=self.settings.retry.timeout_s,
                                                 retries=0)
        error, status, _, _ = await send_notification(
            self._engine, self._auth(), target, ContextData(), o.notify,
            *varbinds(message, o.base_oid, time.monotonic() - self._started), lookupMib=False)
        if error or status:
            raise DeliveryError(f"snmp {self.name}: {o.host}:{o.port} did not acknowledge the "
                                f"{o.notify} ({error or status})")

    async def aclose(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
