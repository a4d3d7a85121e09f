"""The farm document as MINERWATCH-MIB cells: a pure function, so the layout tests without snmpd.

``rows(document)`` gives every cell of mwFarmObjects the commander's responder serves, sorted by
OID, as ``(oid, type, value)``, encoded as ``snmp_agent.cells`` says (no cell for a value missing,
null, of the wrong type, NaN or a negative gauge; hashrates as Gauge32 plus a unit column; text as
one-line DisplayString). The document is what the commander writes after every poll cycle
(``<state_dir>/snmp/farm.json``, ``farm_file``):

    {"version": 1, "written_at": 1764230400.5,
     "farm": {"name": ..., "ha_role": "master", "asics": 120, "asics_up": 118, "rigs": 4, "rigs_up": 4,
              "power_w": 360000.0, "alerts_active": 3, "poll_duration_ms": 2345.0, "polled_at": 1764230400.0},
     "algorithms": [{"index": 1, "algorithm": "SHA256", "miners": 118, "miners_up": 116,
                     "hashrate_hs": 1.2e16, "power_w": 350000.0}, ...],
     "miners": [{"index": 1, "address": "10.0.0.5:4028", "kind": "asic", "hostname": ..., "make": ...,
                 "model": ..., "firmware": ..., "algorithm": "SHA256", "reachable": true, "hashrate_hs": 1.1e14,
                 "power_w": 3250.0, "temp_max_c": 71.5, "uptime_s": 86400, "accepted": 1234, "rejected": 5,
                 "error": null, "polled_at": 1764230400.1}, ...]}

A miner's ``index`` (its inventory number) is its mwMinerTable row, an algorithm's (its number in
``collectors.algorithms``) its mwFarmAlgoTable row: a record without a valid one (an integer from 1
to 2^31 - 1) has no row, and of two with the same index only the first has one.
A farm has 10,000 devices and more (about 150,000 cells), rebuilt whenever the file changes while
snmpd waits: the table is made column by column from the miners sorted by index, which is OID
order, so the responder's sort finds the cells in order and is one pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collectors import algorithms
from collectors.mib import BASE, HA_ROLE, MINER_KIND, Oid
from snmp_agent.cells import (HASHRATE, INT32_MAX, Field, Row, cells, columns, counter, display, enumeration,
                              fixed_hashrate, gauge, records, tenths, truth)

# The farm document's version: farm_file writes it, the responder reads it; it lives here because the
# responder, which snmpd waits for at start, must not pay for farm_file's imports (the inventory, pandas).
VERSION = 1

FARM: tuple[Field, ...] = (
    ("mwFarmName", "name", display),
    ("mwFarmHaRole", "ha_role", enumeration(HA_ROLE)),
    ("mwFarmAsics", "asics", gauge),
    ("mwFarmAsicsUp", "asics_up", gauge),
    ("mwFarmRigs", "rigs", gauge),
    ("mwFarmRigsUp", "rigs_up", gauge),
    ("mwFarmPower", "power_w", gauge),
    ("mwFarmAlertsActive", "alerts_active", gauge),
    ("mwFarmPollDuration", "poll_duration_ms", gauge),
    ("mwFarmPolledAt", "polled_at", gauge),  # Unsigned32, which pass_persist calls gauge
)

# Hundredths of the unit of the record's algorithm, whatever the value: what an NMS threshold reads.
FIXED = fixed_hashrate(lambda name: algorithms.unit(name).mib)

# In the MIB's column order, which columns() relies on for OID order.
MINER: tuple[Field, ...] = (
    ("mwMinerAddress", "address", display),
    ("mwMinerKind", "kind", enumeration(MINER_KIND)),
    ("mwMinerHostname", "hostname", display),
    ("mwMinerMake", "make", display),
    ("mwMinerModel", "model", display),
    ("mwMinerFirmware", "firmware", display),
    ("mwMinerReachable", "reachable", truth),
    ("mwMinerHashrate", "hashrate_hs", HASHRATE),
    ("mwMinerPower", "power_w", gauge),
    ("mwMinerTempMax", "temp_max_c", tenths),
    ("mwMinerUptime", "uptime_s", gauge),
    ("mwMinerAccepted", "accepted", counter),
    ("mwMinerRejected", "rejected", counter),
    ("mwMinerError", "error", display),
    ("mwMinerPolledAt", "polled_at", gauge),
    ("mwMinerAlgorithm", "algorithm", display),
    ("mwMinerHashrateFixed", "hashrate_hs", FIXED),
    ("mwMinerSentry", "sentry", display),
)

ALGORITHM: tuple[Field, ...] = (
    ("mwFarmAlgoName", "algorithm", display),
    ("mwFarmAlgoMiners", "miners", gauge),
    ("mwFarmAlgoMinersUp", "miners_up", gauge),
    ("mwFarmAlgoHashrate", "hashrate_hs", HASHRATE),
    ("mwFarmAlgoHashrateFixed", "hashrate_hs", FIXED),
    ("mwFarmAlgoPower", "power_w", gauge),
)


def _indexed(rows: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The records that have a row, as (index, record) sorted by index; the first of a duplicate wins."""
    by_index: dict[int, Mapping[str, Any]] = {}
    for record in records(rows):
        index = record.get("index")
        if type(index) is int and 1 <= index <= INT32_MAX:  # type(): a JSON true is no index
            by_index.setdefault(index, record)
    return sorted(by_index.items())


def rows(document: Mapping[str, Any], base: Oid = BASE) -> list[Row]:
    """Every cell of mwFarmObjects for ``document``, by OID: the mwFarm scalars, mwMinerTable, then
    mwFarmAlgoTable."""
    farm = document.get("farm")
    out = list(cells(FARM, farm, (0,), base)) if isinstance(farm, Mapping) else []
    out += columns(MINER, _indexed(document.get("miners")), base)
    out += columns(ALGORITHM, _indexed(document.get("algorithms")), base)
    return out
