"""Every OID of MINERWATCH-MIB that code uses: the one source for the code, matched to the MIB.

``packaging/mibs/MINERWATCH-MIB.txt`` is the contract with NMSs; ``ARCS`` restates its tree below
the module's base, and ``tests/sentry_light/snmp/test_snmp_mib.py`` checks the two name for name
(by parsing the MIB, and through ``snmptranslate``), with the enumerations and the notifications'
OBJECTS, so they cannot drift.

The base is configurable wherever an OID is served, read or sent (the responder's ``--base``,
``collectors.rig``'s ``base=``, the snmp channel's ``base_oid``) because the module sits in
net-snmp's experimental playpen until the project has an IANA enterprise number; moving it means
changing the MIB's ``::= { netSnmpPlaypen 1 }`` and ``BASE`` together (packaging/mibs/README.md).

It lives in ``collectors``, which imports nothing else of minerwatch, because every part that
speaks MINERWATCH-MIB may import ``collectors``: the rig's responder (``sentry_light.snmp``), the
commander's rig collector (``collectors.rig``), the commander's farm responder
(``appliance.snmp``), the trap sender (``appliance.alerts``) and what the two responders share
(``snmp_agent``); the commander must not import ``sentry_light``.
"""

from __future__ import annotations

import re

Oid = tuple[int, ...]

# netSnmpPlaypen (1.3.6.1.4.1.8072.9999.9999) . 1
BASE: Oid = (1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 1)

# MIB name -> arcs below BASE, in the MIB's order.
ARCS: dict[str, Oid] = {
    "mwNotifications": (0,),
    "mwAlertFiring": (0, 1),
    "mwAlertResolved": (0, 2),

    "mwRigObjects": (1,),
    "mwSentry": (1, 1),
    "mwSentryStatus": (1, 1, 1),
    "mwSentrySnapshotAge": (1, 1, 2),

    "mwRig": (1, 2),
    "mwRigHostname": (1, 2, 1),
    "mwRigCollectedAt": (1, 2, 2),
    "mwRigUptime": (1, 2, 3),
    "mwRigLoad1m": (1, 2, 4),
    "mwRigMemoryUsed": (1, 2, 5),
    "mwRigDiskUsed": (1, 2, 6),
    "mwRigHashrate": (1, 2, 7),
    "mwRigHashrateUnit": (1, 2, 8),
    "mwRigGpuCount": (1, 2, 9),
    "mwRigProgramCount": (1, 2, 10),
    "mwRigFaultCount": (1, 2, 11),
    "mwRigAlgoCount": (1, 2, 12),

    "mwCpu": (1, 3),
    "mwCpuModel": (1, 3, 1),
    "mwCpuThreads": (1, 3, 2),
    "mwCpuLoad": (1, 3, 3),
    "mwCpuTemp": (1, 3, 4),
    "mwCpuFrequency": (1, 3, 5),
    "mwCpuHashrate": (1, 3, 6),
    "mwCpuHashrateUnit": (1, 3, 7),
    "mwCpuAlgorithm": (1, 3, 8),

    "mwGpuTable": (1, 4),
    "mwGpuEntry": (1, 4, 1),
    "mwGpuIndex": (1, 4, 1, 1),
    "mwGpuBusId": (1, 4, 1, 2),
    "mwGpuDriverIndex": (1, 4, 1, 3),
    "mwGpuVendor": (1, 4, 1, 4),
    "mwGpuName": (1, 4, 1, 5),
    "mwGpuHashrate": (1, 4, 1, 6),
    "mwGpuHashrateUnit": (1, 4, 1, 7),
    "mwGpuTemp": (1, 4, 1, 8),
    "mwGpuMemTemp": (1, 4, 1, 9),
    "mwGpuFanPercent": (1, 4, 1, 10),
    "mwGpuFanRpm": (1, 4, 1, 11),
    "mwGpuPower": (1, 4, 1, 12),
    "mwGpuPowerLimit": (1, 4, 1, 13),
    "mwGpuCoreClock": (1, 4, 1, 14),
    "mwGpuMemClock": (1, 4, 1, 15),
    "mwGpuAccepted": (1, 4, 1, 16),
    "mwGpuRejected": (1, 4, 1, 17),
    "mwGpuProgram": (1, 4, 1, 18),
    "mwGpuLoad": (1, 4, 1, 19),
    "mwGpuAlgorithm": (1, 4, 1, 20),

    "mwProgramTable": (1, 5),
    "mwProgramEntry": (1, 5, 1),
    "mwProgramIndex": (1, 5, 1, 1),
    "mwProgramName": (1, 5, 1, 2),
    "mwProgramVersion": (1, 5, 1, 3),
    "mwProgramAlgorithm": (1, 5, 1, 4),
    "mwProgramPool": (1, 5, 1, 5),
    "mwProgramUser": (1, 5, 1, 6),
    "mwProgramHashrate": (1, 5, 1, 7),
    "mwProgramHashrateUnit": (1, 5, 1, 8),
    "mwProgramAccepted": (1, 5, 1, 9),
    "mwProgramRejected": (1, 5, 1, 10),
    "mwProgramUptime": (1, 5, 1, 11),
    "mwProgramApiUp": (1, 5, 1, 12),
    "mwProgramApiPort": (1, 5, 1, 13),
    "mwProgramError": (1, 5, 1, 14),
    "mwProgramHashrateFixed": (1, 5, 1, 15),
    "mwProgramHashrateFixedUnit": (1, 5, 1, 16),

    "mwFaultTable": (1, 6),
    "mwFaultEntry": (1, 6, 1),
    "mwFaultIndex": (1, 6, 1, 1),
    "mwFaultText": (1, 6, 1, 2),

    "mwRigSnapshot": (1, 7),
    "mwRigSnapshotLength": (1, 7, 1),
    "mwRigSnapshotChecksum": (1, 7, 2),
    "mwRigSnapshotChunks": (1, 7, 3),
    "mwRigSnapshotJsonTable": (1, 7, 4),
    "mwRigSnapshotJsonEntry": (1, 7, 4, 1),
    "mwRigSnapshotJsonIndex": (1, 7, 4, 1, 1),
    "mwRigSnapshotJson": (1, 7, 4, 1, 2),

    "mwRigAlgoTable": (1, 8),
    "mwRigAlgoEntry": (1, 8, 1),
    "mwRigAlgoIndex": (1, 8, 1, 1),
    "mwRigAlgoName": (1, 8, 1, 2),
    "mwRigAlgoHashrate": (1, 8, 1, 3),
    "mwRigAlgoHashrateUnit": (1, 8, 1, 4),
    "mwRigAlgoHashrateFixed": (1, 8, 1, 5),
    "mwRigAlgoHashrateFixedUnit": (1, 8, 1, 6),

    "mwFarmObjects": (2,),
    "mwFarm": (2, 1),
    "mwFarmName": (2, 1, 1),
    "mwFarmHaRole": (2, 1, 2),
    "mwFarmAsics": (2, 1, 3),
    "mwFarmAsicsUp": (2, 1, 4),
    "mwFarmRigs": (2, 1, 5),
    "mwFarmRigsUp": (2, 1, 6),
    "mwFarmHashrate": (2, 1, 7),
    "mwFarmHashrateUnit": (2, 1, 8),
    "mwFarmPower": (2, 1, 9),
    "mwFarmAlertsActive": (2, 1, 10),
    "mwFarmPollDuration": (2, 1, 11),
    "mwFarmPolledAt": (2, 1, 12),

    "mwMinerTable": (2, 2),
    "mwMinerEntry": (2, 2, 1),
    "mwMinerIndex": (2, 2, 1, 1),
    "mwMinerAddress": (2, 2, 1, 2),
    "mwMinerKind": (2, 2, 1, 3),
    "mwMinerHostname": (2, 2, 1, 4),
    "mwMinerMake": (2, 2, 1, 5),
    "mwMinerModel": (2, 2, 1, 6),
    "mwMinerFirmware": (2, 2, 1, 7),
    "mwMinerReachable": (2, 2, 1, 8),
    "mwMinerHashrate": (2, 2, 1, 9),
    "mwMinerHashrateUnit": (2, 2, 1, 10),
    "mwMinerPower": (2, 2, 1, 11),
    "mwMinerTempMax": (2, 2, 1, 12),
    "mwMinerUptime": (2, 2, 1, 13),
    "mwMinerAccepted": (2, 2, 1, 14),
    "mwMinerRejected": (2, 2, 1, 15),
    "mwMinerError": (2, 2, 1, 16),
    "mwMinerPolledAt": (2, 2, 1, 17),
    "mwMinerAlgorithm": (2, 2, 1, 18),
    "mwMinerHashrateFixed": (2, 2, 1, 19),
    "mwMinerHashrateFixedUnit": (2, 2, 1, 20),
    "mwMinerSentry": (2, 2, 1, 21),

    "mwFarmAlgoTable": (2, 3),
    "mwFarmAlgoEntry": (2, 3, 1),
    "mwFarmAlgoIndex": (2, 3, 1, 1),
    "mwFarmAlgoName": (2, 3, 1, 2),
    "mwFarmAlgoMiners": (2, 3, 1, 3),
    "mwFarmAlgoMinersUp": (2, 3, 1, 4),
    "mwFarmAlgoHashrate": (2, 3, 1, 5),
    "mwFarmAlgoHashrateUnit": (2, 3, 1, 6),
    "mwFarmAlgoHashrateFixed": (2, 3, 1, 7),
    "mwFarmAlgoHashrateFixedUnit": (2, 3, 1, 8),
    "mwFarmAlgoPower": (2, 3, 1, 9),

    "mwAlertObjects": (3,),
    "mwAlertDevice": (3, 1),
    "mwAlertRule": (3, 2),
    "mwAlertSeverity": (3, 3),
    "mwAlertValue": (3, 4),
    "mwAlertMessage": (3, 5),
    "mwAlertId": (3, 6),
    "mwAlertPart": (3, 7),
    "mwAlertThreshold": (3, 8),
    "mwAlertTime": (3, 9),

    "mwConformance": (4,),
    "mwCompliances": (4, 1),
    "mwSentryCompliance": (4, 1, 1),
    "mwCommanderCompliance": (4, 1, 2),
    "mwSentryComplianceV2": (4, 1, 3),
    "mwCommanderComplianceV2": (4, 1, 4),
    "mwGroups": (4, 2),
    "mwSentryGroup": (4, 2, 1),
    "mwRigGroup": (4, 2, 2),
    "mwCpuGroup": (4, 2, 3),
    "mwGpuGroup": (4, 2, 4),
    "mwProgramGroup": (4, 2, 5),
    "mwFaultGroup": (4, 2, 6),
    "mwRigSnapshotGroup": (4, 2, 7),
    "mwFarmGroup": (4, 2, 8),
    "mwMinerGroup": (4, 2, 9),
    "mwAlertObjectsGroup": (4, 2, 10),
    "mwAlertNotificationsGroup": (4, 2, 11),
    "mwRigGroupV2": (4, 2, 12),
    "mwRigAlgoGroup": (4, 2, 13),
    "mwFarmGroupV2": (4, 2, 14),
    "mwFarmAlgoGroup": (4, 2, 15),
    "mwMinerSentryGroup": (4, 2, 16),
}

# The enumerations, as the MIB numbers them.
SENTRY_STATUS = {"ok": 1, "stale": 2, "down": 3}
SEVERITY = {"info": 1, "warning": 2, "critical": 3}
HA_ROLE = {"master": 1, "backup": 2, "fault": 3, "standalone": 4}
MINER_KIND = {"asic": 1, "rig": 2}

# The notification for each kind of alert transition (the commander's "fired" and "resolved"), and
# its varbinds after sysUpTime.0 and snmpTrapOID.0, in the MIB's OBJECTS order; each is sent as the
# object's OID + ".0" (they are scalars, accessible-for-notify).
NOTIFICATIONS = {"fired": "mwAlertFiring", "resolved": "mwAlertResolved"}
ALERT_OBJECTS = ("mwAlertDevice", "mwAlertRule", "mwAlertSeverity", "mwAlertValue", "mwAlertMessage",
                 "mwAlertId", "mwAlertPart", "mwAlertThreshold", "mwAlertTime")


def oid(name: str, base: Oid = BASE) -> Oid:
    """The OID of a MIB name under ``base``; a KeyError names a typo at once."""
    return base + ARCS[name]


def dotted(value: Oid) -> str:
    """``1.3.6.1...`` as net-snmp and pysnmp print it, without the leading dot."""
    return ".".join(map(str, value))


def parse(text: str) -> Oid:
    """An OID from ``1.3.6...`` or ``.1.3.6...``; ValueError for anything else."""
    text = text.strip()
    if not _OID.fullmatch(text):
        raise ValueError(f"{text[:80]!r} is not an OID")
    result = tuple(int(arc) for arc in text.lstrip(".").split("."))
    if any(arc > 0xFFFFFFFF for arc in result):
        raise ValueError(f"{text[:80]!r} has an arc beyond 2^32 - 1")
    return result


_OID = re.compile(r"\.?[0-9]+(?:\.[0-9]+)*", re.ASCII)
