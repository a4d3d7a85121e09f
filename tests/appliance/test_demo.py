"""``minerwatch demo``'s farm line: the hashrate of each algorithm apart, never a sum across them."""

from __future__ import annotations

from appliance.demo import farm_text
from collectors.model import MinerSnapshot


def miner(ip: str, algorithm: str | None, hashrate_hs: float | None, reachable: bool = True) -> MinerSnapshot:
    return MinerSnapshot(ip, 4028, algorithm=algorithm, reachable=reachable, hashrate_hs=hashrate_hs)


def test_a_farm_of_mixed_algorithms_gives_one_total_per_algorithm():
    farm = [miner("10.0.0.1", "SHA256", 234e12), miner("10.0.0.2", "SHA256", 110e12),
            miner("10.0.0.3", "Scrypt", 9.5e9), miner("10.0.0.4", "kHeavyHash", 9.4e12),
            miner("10.0.0.5", "SHA256", None, reachable=False), miner("10.0.0.6", None, 29e12)]
    assert farm_text(farm) == ("SHA256 344.00 TH/s, Scrypt 9.50 GH/s, kHeavyHash 9.40 TH/s, "
                               "1 miner of unknown algorithm")


def test_a_farm_with_nothing_hashing_says_so():
    assert farm_text([miner("10.0.0.1", "SHA256", None, reachable=False)]) == "no hashrate"
