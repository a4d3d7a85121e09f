"""MSKMiner on Antminer S19 (bmminer 4.11.1 "rwglr"): the stock legacy ``stats`` layout, plus power.

``stats`` Type is not "Antminer S19" but "S19-88 v.2.6.0.39 ": the model, its chips per
board, and MSKMiner's version. The boards and fans come from the stock driver's rows;
``total_power`` is the firmware's own power figure.
"""

from __future__ import annotations

import re
from typing import Any

from collectors import units
from collectors.asic import antminer, cgminer
from collectors.asic.driver import Driver, Field, Rpc, records, section
from collectors.asic.rpcreply import as_is, summary_rate, version_record

# "S19-88 v.2.6.0.39": model, chips per board, firmware version
_TYPE = re.compile(r"([A-Z]\d+\w*(?: \w+)?)-(\d+) v\.([\d.]+)")
# models MSKMiner names by chip count where the maker's name differs
_MODELS = {("S19", "88"): "Antminer S19 NoPIC"}


def rpc_signature(replies: dict) -> bool:
    """The Type "S19-88 v.2.6.0.39" (model-chips v.version) of MSKMiner's ``version``."""
    return _TYPE.fullmatch(units.text(version_record(replies).get("Type")) or "") is not None


def _type(reply: Any) -> re.Match | None:
    return _TYPE.fullmatch(units.text(section(reply, "STATS").get("Type")) or "")


def _model(reply: Any) -> str | None:
    match = _type(reply)
    if match is None:
        return None
    return _MODELS.get((match.group(1), match.group(2)), f"Antminer {match.group(1)}")


def _version(reply: Any) -> str | None:
    match = _type(reply)
    return match.group(3) if match else None


def _details(key: str) -> Any:
    def select(reply: Any) -> Any:
        found = records(reply, "STATS")
        return found[-1].get(key) if found else None

    return select


DRIVER = Driver(
    name="mskminer",
    rpc_signature=rpc_signature,
    make="Bitmain",
    firmware="MSKMiner",
    endpoints=(Rpc("summary"), Rpc("stats"), Rpc("pools")),
    fields=(
        Field("model", "stats", _model, as_is),
        Field("firmware_version", "stats", _version, as_is),
        Field("hashrate_hs", "summary", summary_rate("5s"), as_is),
        Field("hashrate_avg_hs", "summary", summary_rate("av"), as_is),
        Field("hashrate_nominal_hs", "stats", _details("total_rateideal"), units.ghs_to_hs),
        Field("power_w", "stats", _details("total_power")),
        *cgminer.SUMMARY_COUNTERS,
    ),
    boards=antminer.BOARDS,
    fans=antminer.FANS,
    pools=cgminer.POOLS,
    required=("stats",),
)
