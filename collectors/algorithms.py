"""The algorithms minerwatch knows: one name for each however firmwares and mining programs spell it,
the unit a person reads its hashrate in, and the number that keys it in MINERWATCH-MIB.

A hashrate means something only with its algorithm: 1 TH/s of SHA256 and 1 MH/s of KawPow are not
the same kind of work, so two hashrates are added only when ``canonical`` gives both the same name,
and nothing adds them across algorithms (a farm's, a rig's, a query's totals are per algorithm). A
device whose algorithm nobody reports (``canonical`` gives None) is in no total: its hashrate would
be added to the wrong thing. An algorithm not in the table keeps the name it was given and
``DEFAULT_UNIT``.

Snapshots keep what the device or program wrote (``"rx/0"``) and H/s; names are made canonical where
hashrates are totalled or shown, and only the UI scales (``text``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str  # "TH/s"; Equihash counts solutions, "Sol/s"
    mib: int  # MINERWATCH-MIB's MwHashrateUnit: 1 = H/s ... 6 = PH/s, the unit is 1000^(mib - 1) H/s

    @property
    def hs(self) -> float:
        """H/s (or Sol/s) in one of this unit."""
        return 1000.0 ** (self.mib - 1)


SOL, KSOL = Unit("Sol/s", 1), Unit("kSol/s", 2)
KH, MH, GH, TH = Unit("kH/s", 2), Unit("MH/s", 3), Unit("GH/s", 4), Unit("TH/s", 5)

# An algorithm nobody has put in the table is most likely a GPU program's new one, and GPUs hash
# in MH/s on most.
DEFAULT_UNIT = MH


@dataclass(frozen=True, slots=True)
class Algorithm:
    number: int  # its row in MINERWATCH-MIB's per-algorithm tables: never reused, never renumbered
    name: str
    unit: Unit  # the unit its miners are rated and read in
    aliases: tuple[str, ...] = ()  # how firmwares, programs and pools write it, besides its name


# The unit is also what MINERWATCH-MIB's fixed-unit columns count in hundredths, so it must hold
# both a small miner and a whole farm in a Gauge32 (4,294,967,295): SHA256 in hundredths of TH/s
# gives a 1.2 TH/s BitAxe 120 (a 1 % step is visible), an S21 Pro (234 TH/s) 23,400, and 20,000 S21
# Pros (4.68 EH/s) 468,000,000, a ninth of the ceiling, 42.9 EH/s. The ceiling per unit, for a farm:
# TH/s 42.9 EH/s, GH/s 42.9 PH/s (Scrypt, X11: an Antminer L9 is 16 GH/s), MH/s 42.9 TH/s (KawPow,
# Ethash: a GPU is 30-100 MH/s, an E9 Pro 3.68 GH/s), kH/s 42.9 GH/s (RandomX: a CPU is 5-30 kH/s).
ALGORITHMS: tuple[Algorithm, ...] = (
    Algorithm(1, "SHA256", TH, ("sha256d", "bitcoin", "btc", "bch")),
    Algorithm(2, "Scrypt", GH, ("ltc", "litecoin", "doge", "dogecoin")),
    Algorithm(3, "X11", GH, ("dash",)),
    Algorithm(4, "kHeavyHash", TH, ("kaspa", "kas")),
    Algorithm(5, "Kadena", TH, ("blake2s", "kda", "blake2s-kda")),  # Kadena's Blake2s
    Algorithm(6, "Eaglesong", TH, ("ckb", "nervos")),
    Algorithm(7, "Blake3", GH, ("blake3_alephium", "alephium", "aleph", "alph")),  # Alephium's
    Algorithm(8, "KawPow", MH, ("rvn", "ravencoin")),
    Algorithm(9, "Ethash", MH, ("eth", "ethw")),
    Algorithm(10, "Etchash", MH, ("etc",)),  # Ethash with Ethereum Classic's epochs: another DAG, another coin
    Algorithm(11, "Autolykos2", MH, ("autolykos", "autolykosv2", "ergo", "erg")),
    Algorithm(12, "RandomX", KH, ("rx/0", "rx", "monero", "xmr", "randomxmonero")),
    Algorithm(13, "Octopus", MH, ("cfx", "conflux")),
    Algorithm(14, "FiroPoW", MH, ("firo",)),
    Algorithm(15, "VerusHash", MH, ("verus", "vrsc")),
    Algorithm(16, "GhostRider", KH, ("gr", "rtm", "raptoreum")),
    Algorithm(17, "Equihash 200,9", KSOL, ("equihash", "zec", "zcash")),
    Algorithm(18, "Equihash 144,5", SOL, ("zhash",)),
    Algorithm(19, "Equihash 125,4", SOL, ("zelhash", "flux")),
    Algorithm(20, "Equihash 150,5", SOL),
    Algorithm(21, "Equihash 192,7", SOL),
    Algorithm(22, "Equihash 210,9", SOL),
)

# Row numbers of the algorithms the table lacks: 2^30 + 1 and up, from the name, so the same name has
# the same row on every farm and on every poll; below them every number the table can ever give.
_UNLISTED_FIRST = 2**30 + 1
_ROW_MAX = 2**31 - 1


def _key(name: str) -> str:
    """What tells two spellings apart: case, spaces, dashes and underscores do not."""
    lowered = name.lower()
    # Equihash is a family whose members are not one another's: "equihash125_4", "EQUI144_5",
    # 'Equihash 150,5 "Beam-PoW"' each say which by their two parameters.
    family = _EQUIHASH.match(lowered)
    return f"equihash{family[1]},{family[2]}" if family else re.sub(r"[\s_\-]+", "", lowered)


_EQUIHASH = re.compile(r"\s*equi(?:hash)?\D*?(\d+)\D+(\d+)")


_BY_KEY: dict[str, Algorithm] = {_key(spelling): algorithm for algorithm in ALGORITHMS
                                 for spelling in (algorithm.name, *algorithm.aliases)}


def lookup(name: str | None) -> Algorithm | None:
    """The table's entry for any spelling of an algorithm (``"rx/0"``, ``"KAWPOW"``, ``"sha256d"``), or None."""
    return _BY_KEY.get(_key(name)) if name else None


@lru_cache(maxsize=1024)
def canonical(name: str | None) -> str | None:
    """The one name of an algorithm however it is written; an algorithm not in the table keeps the name
    it was given; None when nobody said (None, empty, ``"unknown"``)."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or text.lower() == "unknown":
        return None
    found = lookup(text)
    return found.name if found else text


def unit(name: str | None) -> Unit:
    """The unit an algorithm's hashrates are read in: the table's, else ``DEFAULT_UNIT``."""
    found = lookup(name)
    return found.unit if found else DEFAULT_UNIT


def number(name: str) -> int:
    """The algorithm's row in MINERWATCH-MIB's per-algorithm tables: its number in the table, else one
    from 2^30 + 1 to 2^31 - 1 made from its name."""
    found = lookup(name)
    if found is not None:
        return found.number
    return _UNLISTED_FIRST + zlib.crc32(name.encode("utf-8", "replace")) % (_ROW_MAX - _UNLISTED_FIRST + 1)


def text(hashrate_hs: float | None, algorithm: str | None) -> str:
    """A hashrate as a person reads it, in its algorithm's unit: ``"110.00 TH/s"``, ``"18.92 kH/s"``;
    ``"-"`` when unknown. The unit stays the same however large or small the value, so a column of
    one algorithm reads at a glance; below one unit it keeps three significant digits."""
    if hashrate_hs is None:
        return "-"
    found = unit(algorithm)
    value = hashrate_hs / found.hs
    return f"{value:,.2f} {found.symbol}" if value >= 1 or value == 0 else f"{value:.3g} {found.symbol}"


def totals(rates: Iterable[tuple[str | None, float | None]]) -> dict[str, float]:
    """(algorithm as written, H/s) pairs added up per canonical algorithm, in the table's order and then
    by name; a pair whose algorithm or hashrate is unknown is in no total."""
    sums: dict[str, float] = {}
    for algorithm, hashrate_hs in rates:
        name = canonical(algorithm)
        if name is not None and hashrate_hs is not None:
            sums[name] = sums.get(name, 0.0) + hashrate_hs
    return {name: sums[name] for name in sorted(sums, key=order)}


def order(name: str) -> tuple[int, str]:
    """The sort key that lists algorithms as the table does, those it lacks after them by name."""
    found = lookup(name)
    return (found.number if found else _UNLISTED_FIRST), name
