"""Emulated CPU/GPU rigs: the local APIs of the mining programs a rig sentry reads.

Adding a program = one module in ``programs/``, one line here, one row in README.md.
"""

from __future__ import annotations

from simfarm.rigs.programs.base import MinerProgram
from simfarm.rigs.programs.bzminer import BzMiner
from simfarm.rigs.programs.gminer import GMiner
from simfarm.rigs.programs.lolminer import LolMiner
from simfarm.rigs.programs.lolminer_legacy import LolMinerLegacy
from simfarm.rigs.programs.nanominer import Nanominer
from simfarm.rigs.programs.nbminer import NBMiner
from simfarm.rigs.programs.onezerominer import OneZeroMiner
from simfarm.rigs.programs.rigel import Rigel
from simfarm.rigs.programs.srbminer_multi import SRBMinerMulti
from simfarm.rigs.programs.teamredminer import TeamRedMiner
from simfarm.rigs.programs.trex import TRex
from simfarm.rigs.programs.xmrig import XMRig

MINER_PROGRAMS: dict[str, type[MinerProgram]] = {
    "xmrig": XMRig,
    "trex": TRex,
    "lolminer": LolMiner,
    "lolminer_legacy": LolMinerLegacy,
    "teamredminer": TeamRedMiner,
    "gminer": GMiner,
    "nbminer": NBMiner,
    "srbminer_multi": SRBMinerMulti,
    "nanominer": Nanominer,
    "rigel": Rigel,
    "bzminer": BzMiner,
    "onezerominer": OneZeroMiner,
}
