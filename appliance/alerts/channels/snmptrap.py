"""SNMP notifications to the farm's NMS: SNMPv2c traps, or informs (acknowledged) in v2c or v3 (USM).

A fired alert is MINERWATCH-MIB's mwAlertFiring, a resolved one its mwAlertResolved, built from
``collectors.mib`` (the MIB's one restatement for code, tested against the MIB file): the
notification's OID, then its OBJECTS in the MIB's order (``mib.ALERT_OBJECTS``), each an
accessible-for-notify scalar sent with the instance ``.0``, severity in the MIB's numbers
(``mib.SEVERITY``). ``base_oid`` is the module's OID (minerwatchMIB, by default ``mib.BASE``): set
it only together with the MIB file the NMS loads (packaging/mibs/README.md, which has the OID table).

Text is ASCII, cut to DisplayString's 255 octets; mwAlertTime is a DateAndTime in UTC. sysUpTime.0
is the time since the channel started. The daily summary is not sent: an NMS keeps its own.
"""

from __future__ import annotations

import datetime as dt
import struct
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
from appliance.alerts.message import Message
from appliance.alerts.rules import RULES
from appliance.alerts.settings import ChannelSettings, SnmpSettings
from collectors import mib

SYS_UP_TIME = "1.3.6.1.2.1.1.3.0"  # SNMPv2-MIB::sysUpTime.0
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"  # SNMPv2-MIB::snmpTrapOID.0

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


def _date_and_time(at: float) -> OctetString:
    # SNMPv2-TC's DateAndTime in its 11-octet form, whose "+0:0" says UTC: without it an NMS would
    # read the time as its own local time.
    t = dt.datetime.fromtimestamp(at, dt.UTC)
    return OctetString(struct.pack(">HBBBBBBcBB", t.year, t.month, t.day, t.hour, t.minute, t.second,
                                   t.microsecond // 100_000, b"+", 0, 0))


def varbinds(message: Message, base_oid: str, uptime_s: float) -> list[tuple[str, object]]:
    base = mib.parse(base_oid)
    values = {
        "mwAlertDevice": _text(message.device),
        "mwAlertRule": _text(message.rule),
        "mwAlertSeverity": Integer32(mib.SEVERITY[message.severity]),
        "mwAlertValue": _text(_with_unit(message.value, message.rule)),
        "mwAlertMessage": _text(message.message or ""),
        "mwAlertId": _text(message.alert_id),
        "mwAlertPart": _text(message.part or ""),
        "mwAlertThreshold": _text(_with_unit(message.threshold, message.rule)),
        "mwAlertTime": _date_and_time(message.at),
    }
    return [
        (SYS_UP_TIME, TimeTicks(int(uptime_s * 100) % 2**32)),
        (SNMP_TRAP_OID, ObjectIdentifier(mib.dotted(mib.oid(mib.NOTIFICATIONS[message.kind], base)))),
        # In the MIB's order, so an object the MIB adds and this table lacks is a KeyError in the tests.
        *((mib.dotted(mib.oid(name, base) + (0,)), values[name]) for name in mib.ALERT_OBJECTS),
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
