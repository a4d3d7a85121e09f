"""The registry of emulated makes: name (as ``--mix`` spells it) -> ``EmulatedMiner`` subclass.

Adding a make = one module here and one line below, kept in alphabetical order.
"""

from __future__ import annotations

from simfarm.asic.antminer import Antminer
from simfarm.asic.auradine import AuradineMiner
from simfarm.asic.avalon import Avalon
from simfarm.asic.braiins import BraiinsOS
from simfarm.asic.elphapex import ElphapexMiner
from simfarm.asic.epic import EpicMiner
from simfarm.asic.espminer import EspMiner
from simfarm.asic.goldshell import GoldshellMiner
from simfarm.asic.iceriver import IceRiverMiner
from simfarm.asic.innosilicon import InnosiliconMiner
from simfarm.asic.luxos import LuxOS
from simfarm.asic.vnish import VnishMiner
from simfarm.asic.whatsminer import Whatsminer, WhatsminerV3
from simfarm.device import EmulatedMiner

MAKES: dict[str, type[EmulatedMiner]] = {
    "antminer": Antminer,
    "auradine": AuradineMiner,
    "avalon": Avalon,
    "braiins": BraiinsOS,
    "elphapex": ElphapexMiner,
    "epic": EpicMiner,
    "espminer": EspMiner,
    "goldshell": GoldshellMiner,
    "iceriver": IceRiverMiner,
    "innosilicon": InnosiliconMiner,
    "luxos": LuxOS,
    "vnish": VnishMiner,
    "whatsminer": Whatsminer,
    "whatsminer_v3": WhatsminerV3,
}
