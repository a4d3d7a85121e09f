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
from collectors.asic.driver import BOARD_WORDS, Column, Driver, Field, Rows, Rpc, records, records_in, section, words
from collectors.asic.models import first_chain
from collectors.asic.rpcreply import as_is, names_firmware, rate, summary_rate

_VERSION_KEYS = ("BOSer", "BOSminer+", "BOSminer")


def rpc_signature(replies: dict) -> bool:
    """BOSminer and BOSer name themselves in ``version`` (a VERSION key, and STATUS)."""
    return names_firmware(replies, "bosminer", "boser")


# A board's figures are spread over three replies, each record carrying the board's chain slot as ID.
BOARDS = (
    Rows("devs", records_in("DEVS"), index="ID", first=first_chain, columns=(
        Column("hashrate_hs", lambda record: rate(record, "1m", "5s"), as_is),
        Column("hw_errors", "Hardware Errors", units.counter),
        Column("status", "Status", words(BOARD_WORDS)),
    )),
    Rows("devdetails", records_in("DEVDETAILS"), index="ID", first=first_chain, columns=(
        Column("chips", "Chips", units.integer),
    )),
    Rows("temps", records_in("TEMPS"), index="ID", first=first_chain, columns=(
        Column("temp_board_c", "Board", units.temperature_c),
        Column("temp_chip_c", "Chip", units.temperature_c),
    )),
)

FANS = Rows("fans", records_in("FANS"), index="ID", columns=(Column("rpm", "RPM", units.integer),))


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
    rpc_signature=rpc_signature,
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
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    required=("summary",),
)
