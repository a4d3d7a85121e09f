"""Braiins OS / BOS+ (BOSminer, and BOSer from 2023): the cgminer API on 4028 with Braiins' extensions.

One poll: ``summary``, ``pools``, ``devs`` (hashrate per board), ``devdetails`` (chips and model
per board), ``temps`` (board and chip temperature per board), ``fans`` and ``tunerstatus``
(power limit and the tuner's estimate of the power drawn); ``version`` once per device.

BOSminer numbers the boards by their chain slot (6, 7, 8 on an S9; 1, 2, 3 on later models),
the same ID in ``devs``, ``devdetails`` and ``temps``; the snapshot numbers them from 0 in
slot order. Braiins OS runs on other makers' hardware, so the make comes from the model.

Braiins OS also serves a gRPC API (50051, BOS 23+) and, before that, GraphQL; this driver reads
only the cgminer API, which every Braiins OS version keeps.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.asic import cgminer
from collectors.asic.driver import Driver, Field, Replies, Rpc, records, section
from collectors.asic.rpcreply import as_is, names_firmware, rate, summary_rate
from collectors.model import Board, Fan

_VERSION_KEYS = ("BOSer", "BOSminer+", "BOSminer")


def rpc_signature(replies: dict) -> bool:
    """BOSminer and BOSer name themselves in ``version`` (a VERSION key, and STATUS)."""
    return names_firmware(replies, "bosminer", "boser")


def _by_slot(reply: Any, name: str) -> dict[int, dict]:
    found = {}
    for record in records(reply, name):
        slot = units.integer(record.get("ID"))
        if slot is not None:
            found[slot] = record
    return found


def boards(replies: Replies) -> list[Board]:
    devs = _by_slot(replies.get("devs"), "DEVS")
    details = _by_slot(replies.get("devdetails"), "DEVDETAILS")
    temps = _by_slot(replies.get("temps"), "TEMPS")
    found = []
    for index, slot in enumerate(sorted(devs.keys() | details.keys() | temps.keys())):
        dev, detail, temp = devs.get(slot, {}), details.get(slot, {}), temps.get(slot, {})
        found.append(Board(
            index=index,
            hashrate_hs=rate(dev, "1m", "5s"),
            chips=units.integer(detail.get("Chips")),
            temp_board_c=units.temperature_c(temp.get("Board")),
            temp_chip_c=units.temperature_c(temp.get("Chip")),
            hw_errors=units.counter(dev.get("Hardware Errors")),
        ))
    return found


def fans(replies: Replies) -> list[Fan]:
    return [Fan(index=position if units.integer(r.get("ID")) is None else units.integer(r.get("ID")),
                rpm=units.integer(r.get("RPM")))
            for position, r in enumerate(records(replies.get("fans"), "FANS"))]


def _model(reply: Any) -> str | None:
    """Every hashboard record names the machine's model ("Antminer S19J Pro")."""
    for record in records(reply, "DEVDETAILS"):
        model = units.text(record.get("Model"))
        if model:
            return model
    return None


def _firmware_version(reply: Any) -> str | None:
    record = section(reply, "VERSION")
    for key in _VERSION_KEYS:
        value = units.text(record.get(key))
        if value:
            return value
    return None


def _nominal(reply: Any) -> float | None:
    """The sum of the boards' "Nominal MHS" (what the tuner targets), when every board gives it."""
    rates = [units.mhs_to_hs(r.get("Nominal MHS")) for r in records(reply, "DEVS")]
    return sum(rates) if rates and None not in rates and sum(rates) > 0 else None


def _tuner(key: str) -> Any:
    return lambda reply: section(reply, "TUNERSTATUS").get(key)


DRIVER = Driver(
    name="braiins",
    make=None,
    firmware="Braiins OS",
    endpoints=(Rpc("summary"), Rpc("pools"), Rpc("devs"), Rpc("devdetails"), Rpc("temps"),
               Rpc("fans"), Rpc("tunerstatus")),
    identity=(Rpc("version"),),
    fields=(
        Field("hashrate_hs", "summary", summary_rate("1m", "5s"), as_is),
        Field("hashrate_avg_hs", "summary", summary_rate("av"), as_is),
        *cgminer.SUMMARY_COUNTERS,
        Field("hashrate_nominal_hs", "devs", _nominal, as_is),
        Field("model", "devdetails", _model, as_is),
        Field("power_w", "tunerstatus", _tuner("ApproximateMinerPowerConsumption")),
        Field("power_limit_w", "tunerstatus", _tuner("PowerLimit")),
        Field("firmware_version", "version", _firmware_version, as_is),
    ),
    boards=boards,
    fans=fans,
    pools=cgminer.pools,
    required=("summary",),
)
