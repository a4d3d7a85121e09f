"""Facts about miner models, as data: maker, algorithm, boards, chips, fans, rated hashrate and power.

Keyed by a normalized model name, so "Antminer S19 Pro", "S19 Pro" and "ANTMINER S19PRO" find the
same row. A model that is not here still polls; only the facts below are then unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class ModelSpec:
    make: str
    algorithm: str
    boards: int
    chips_per_board: int | None
    fans: int
    hashrate_nominal_hs: float
    power_w: float | None
    # The number bmminer and BOSminer give the first board's chain: its connector on the control
    # board (an S9's boards sit on J6, J7, J8); the next boards follow it.
    first_chain: int = 1


TH, GH, MH = 1e12, 1e9, 1e6

# name as the maker writes it -> spec. Figures are the makers' published ratings.
MODELS: dict[str, ModelSpec] = {
    # Bitmain, SHA256
    "Antminer S9": ModelSpec("Bitmain", "SHA256", 3, 63, 2, 13.5 * TH, 1323, first_chain=6),
    "Antminer S9i": ModelSpec("Bitmain", "SHA256", 3, 63, 2, 14 * TH, 1320, first_chain=6),
    "Antminer S9j": ModelSpec("Bitmain", "SHA256", 3, 63, 2, 14.5 * TH, 1350, first_chain=6),
    "Antminer T17": ModelSpec("Bitmain", "SHA256", 3, 30, 4, 40 * TH, 2200),
    "Antminer S17": ModelSpec("Bitmain", "SHA256", 3, 48, 4, 56 * TH, 2520),
    "Antminer S17 Pro": ModelSpec("Bitmain", "SHA256", 3, 48, 4, 53 * TH, 2094),
    "Antminer S19": ModelSpec("Bitmain", "SHA256", 3, 76, 4, 95 * TH, 3250),
    "Antminer S19 Pro": ModelSpec("Bitmain", "SHA256", 3, 114, 4, 110 * TH, 3250),
    "Antminer S19j": ModelSpec("Bitmain", "SHA256", 3, 114, 4, 90 * TH, 3100),
    "Antminer S19j Pro": ModelSpec("Bitmain", "SHA256", 3, 126, 4, 100 * TH, 3050),
    "Antminer S19k Pro": ModelSpec("Bitmain", "SHA256", 3, 77, 4, 120 * TH, 2760),
    "Antminer S19 XP": ModelSpec("Bitmain", "SHA256", 3, 110, 4, 140 * TH, 3010),
    "Antminer S19 NoPIC": ModelSpec("Bitmain", "SHA256", 3, 88, 4, 95 * TH, 3250),
    "Antminer T19": ModelSpec("Bitmain", "SHA256", 3, 76, 4, 84 * TH, 3150),
    "Antminer S21": ModelSpec("Bitmain", "SHA256", 3, 108, 4, 200 * TH, 3500),
    "Antminer S21 Pro": ModelSpec("Bitmain", "SHA256", 3, 65, 4, 234 * TH, 3510),
    "Antminer T21": ModelSpec("Bitmain", "SHA256", 3, 108, 4, 190 * TH, 3610),
    # Bitmain, other algorithms
    "Antminer L3+": ModelSpec("Bitmain", "Scrypt", 4, 72, 2, 504 * MH, 800),
    "Antminer L7": ModelSpec("Bitmain", "Scrypt", 4, 120, 4, 9.5 * GH, 3425),
    "Antminer D9": ModelSpec("Bitmain", "X11", 3, 126, 4, 1770 * GH, 2839),
    "Antminer KS3": ModelSpec("Bitmain", "kHeavyHash", 3, None, 4, 9.4 * TH, 3500),
    # MicroBT
    "Whatsminer M20S": ModelSpec("MicroBT", "SHA256", 3, 111, 2, 68 * TH, 3360),
    "Whatsminer M30S": ModelSpec("MicroBT", "SHA256", 3, 148, 2, 88 * TH, 3344),
    "Whatsminer M30S+": ModelSpec("MicroBT", "SHA256", 3, 215, 2, 100 * TH, 3400),
    "Whatsminer M30S++": ModelSpec("MicroBT", "SHA256", 3, 255, 2, 112 * TH, 3472),
    "Whatsminer M50": ModelSpec("MicroBT", "SHA256", 3, None, 2, 114 * TH, 3306),
    "Whatsminer M50S": ModelSpec("MicroBT", "SHA256", 3, None, 2, 126 * TH, 3276),
    "Whatsminer M60": ModelSpec("MicroBT", "SHA256", 3, None, 2, 172 * TH, 3422),
    "Whatsminer M60S": ModelSpec("MicroBT", "SHA256", 3, None, 2, 186 * TH, 3441),
    # Canaan
    "AvalonMiner 1066": ModelSpec("Canaan", "SHA256", 3, 114, 2, 50 * TH, 3250),
    "AvalonMiner 1246": ModelSpec("Canaan", "SHA256", 3, 120, 2, 90 * TH, 3420),
    "AvalonMiner 1366": ModelSpec("Canaan", "SHA256", 3, None, 2, 130 * TH, 3250),
    "AvalonMiner 1466": ModelSpec("Canaan", "SHA256", 3, None, 2, 150 * TH, 3230),
    "AvalonMiner 1566": ModelSpec("Canaan", "SHA256", 3, 160, 2, 185 * TH, 3420),
    # Others
    "Goldshell KD6": ModelSpec("Goldshell", "Kadena", 4, None, 4, 29.2 * TH, 2630),
    "Goldshell Mini DOGE": ModelSpec("Goldshell", "Scrypt", 1, None, 2, 185 * MH, 233),
    "Innosilicon T3H+": ModelSpec("Innosilicon", "SHA256", 3, None, 2, 74 * TH, 3300),
    "Innosilicon A10 Pro": ModelSpec("Innosilicon", "Ethash", 6, None, 2, 500 * MH, 1300),
    "IceRiver KS3": ModelSpec("IceRiver", "kHeavyHash", 4, None, 4, 8 * TH, 3200),
    "IceRiver KS0": ModelSpec("IceRiver", "kHeavyHash", 1, None, 1, 100 * GH, 65),
    "Auradine AT1500": ModelSpec("Auradine", "SHA256", 3, None, 4, 180 * TH, 2700),
    "Hammer D10": ModelSpec("Hammer", "Scrypt", 3, 108, 4, 5 * GH, 3400),
    "SealMiner A2": ModelSpec("Bitdeer", "SHA256", 3, 153, 4, 226 * TH, 3730),
    "Elphapex DG1+": ModelSpec("Elphapex", "Scrypt", 4, 204, 4, 14 * GH, 3950),
    "VolcMiner D1": ModelSpec("VolcMiner", "Scrypt", 4, None, 4, 15.2 * GH, 3900),
    "BitAxe Supra": ModelSpec("BitAxe", "SHA256", 1, 1, 1, 0.6 * TH, 15),
    "BitAxe Gamma": ModelSpec("BitAxe", "SHA256", 1, 1, 1, 1.2 * TH, 18),
}


_MAKER_WORDS = ("antminer", "whatsminer", "avalonminer", "avalon", "goldshell", "innosilicon",
                "iceriver", "auradine", "bitaxe", "elphapex", "volcminer", "hammer")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.lower())


def _without_maker(key: str) -> str:
    for word in _MAKER_WORDS:
        if key.startswith(word) and len(key) > len(word):
            return key[len(word):]
    return key


def _index() -> dict[str, ModelSpec]:
    index: dict[str, ModelSpec] = {}
    ambiguous: set[str] = set()
    for name, spec in MODELS.items():
        short = _without_maker(_key(name))
        if short in index and index[short] != spec:
            ambiguous.add(short)
        index[short] = spec
    for short in ambiguous:
        del index[short]
    index.update({_key(name): spec for name, spec in MODELS.items()})
    return index


_BY_KEY = _index()


def first_chain(model: str | None) -> int:
    """The chain number of ``model``'s first board (1 for a model not in the table)."""
    spec = lookup_model(model)
    return spec.first_chain if spec is not None else 1


@lru_cache(maxsize=4096)
def lookup_model(name: str | None) -> ModelSpec | None:
    """The spec of a model as any firmware spells it ("Antminer S19 Pro", "S19Pro"), or None.

    A bare name two makers share ("KS3") needs its maker word to be found.
    """
    if not name:
        return None
    key = _key(name)
    return _BY_KEY.get(key) or _BY_KEY.get(_without_maker(key))
