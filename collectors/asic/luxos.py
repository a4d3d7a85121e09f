"""LuxOS (LUXminer) on Antminers: the cgminer API on 4028, with bmminer's ``stats`` layout.

One poll: ``summary``, ``stats`` (boards, fans, model, in the legacy bmminer layout the stock
driver reads), ``pools`` and ``power`` (LUXminer's own: ``POWER[0].Watts``); ``version``
(LUXminer's version) and ``config`` (MAC and hostname) once per device. The make comes from
the model, as LuxOS runs on several makers' hardware.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.asic import antminer, cgminer
from collectors.asic.driver import Driver, Field, Rpc, section
from collectors.asic.rpcreply import names_firmware


def rpc_signature(replies: dict) -> bool:
    """LUXminer names itself in ``version``: a "LUXminer" key, and in STATUS."""
    return names_firmware(replies, "luxminer")


def _config(key: str) -> Any:
    return lambda reply: section(reply, "CONFIG").get(key)


DRIVER = Driver(
    name="luxos",
    rpc_signature=rpc_signature,
    make=None,
    firmware="LuxOS",
    endpoints=(Rpc("summary"), Rpc("stats"), Rpc("pools"), Rpc("power")),
    identity=(Rpc("version"), Rpc("config")),
    fields=(
        *antminer.STATS_FIELDS,
        *cgminer.SUMMARY_COUNTERS,
        Field("power_w", "power", lambda reply: section(reply, "POWER").get("Watts")),
        Field("firmware_version", "version", lambda reply: section(reply, "VERSION").get("LUXminer"),
              units.text),
        Field("mac", "config", _config("MACAddr"), units.mac),
        Field("hostname", "config", _config("Hostname"), units.text),
    ),
    boards=antminer.BOARDS,
    fans=antminer.FANS,
    pools=cgminer.POOLS,
    required=("stats",),
)
