"""An alert notification built from oids.py, sent with pysnmp as a v2c trap, arrives at a real
snmptrapd and translates with MINERWATCH-MIB."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    Integer32,
    ObjectIdentifier,
    ObjectIdentity,
    ObjectType,
    OctetString,
    SnmpEngine,
    UdpTransportTarget,
    send_notification,
)

from sentry_light.snmp.oids import ALERT_OBJECTS, NOTIFICATIONS, SEVERITY, dotted, oid

from .conftest import free_udp_port, mib_args, tool

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"


def start_snmptrapd(directory: Path, port: int) -> tuple[subprocess.Popen, Path]:
    conf = directory / "snmptrapd.conf"
    conf.write_text("authCommunity log public\n")
    log = directory / "traps.log"
    persistent = directory / "persistent"
    persistent.mkdir()
    process = subprocess.Popen(
        [tool("snmptrapd"), "-f", "-Lf", str(log), "-C", "-c", str(conf), *mib_args(),
         f"--persistentDir={persistent}", f"udp:127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while not (log.exists() and "NET-SNMP version" in log.read_text()):
        assert process.poll() is None and time.monotonic() < deadline, "snmptrapd did not start"
        time.sleep(0.05)
    return process, log


async def test_an_alert_trap_arrives_and_translates_with_the_mib(tmp_path):
    port = free_udp_port()
    process, log = start_snmptrapd(tmp_path, port)
    engine = SnmpEngine()
    try:
        values = {"mwAlertDevice": OctetString("rig-012"), "mwAlertRule": OctetString("gpu_hot"),
                  "mwAlertSeverity": Integer32(SEVERITY["critical"]), "mwAlertValue": OctetString("92.5 C"),
                  "mwAlertMessage": OctetString("GPU 0000:03:00.0 on rig-012 is at 92.5 C")}
        error, status, _, _ = await send_notification(
            engine, CommunityData("public", mpModel=1), await UdpTransportTarget.create(("127.0.0.1", port)),
            ContextData(), "trap",
            ObjectType(ObjectIdentity(SNMP_TRAP_OID), ObjectIdentifier(dotted(oid(NOTIFICATIONS["firing"])))),
            *(ObjectType(ObjectIdentity(dotted(oid(name) + (0,))), values[name]) for name in ALERT_OBJECTS))
        assert not error and not status
        deadline = time.monotonic() + 10
        while "mwAlertFiring" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.05)
    finally:
        engine.close_dispatcher()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    text = log.read_text()
    assert "SNMPv2-MIB::snmpTrapOID.0 = OID: MINERWATCH-MIB::mwAlertFiring" in text
    assert "MINERWATCH-MIB::mwAlertDevice.0 = STRING: rig-012" in text
    assert "MINERWATCH-MIB::mwAlertSeverity.0 = INTEGER: critical(3)" in text
    assert "MINERWATCH-MIB::mwAlertMessage.0" in text
