"""The table of algorithms: every spelling finds its one name, each algorithm reads in its own unit,
hashrates add up only within an algorithm, and the poll table says which algorithm each miner mines."""

from __future__ import annotations

import pytest

from collectors import algorithms
from collectors.algorithms import ALGORITHMS, canonical, number, text, totals, unit
from collectors.display import poll_table
from collectors.model import MinerSnapshot


@pytest.mark.parametrize(("written", "name"), [
    ("SHA256", "SHA256"), ("sha256d", "SHA256"), ("SHA-256", "SHA256"),
    ("kawpow", "KawPow"), ("KAWPOW", "KawPow"),
    ("rx/0", "RandomX"), ("randomx", "RandomX"), ("RandomX", "RandomX"),
    ("ethash", "Ethash"), ("Etchash", "Etchash"), ("ETCHASH", "Etchash"),
    ("autolykos2", "Autolykos2"), ("ergo", "Autolykos2"),
    ("kheavyhash", "kHeavyHash"), ("kaspa", "kHeavyHash"),
    ("Scrypt", "Scrypt"), ("x11", "X11"), ("eaglesong", "Eaglesong"),
    ("blake2s", "Kadena"), ("Kadena", "Kadena"), ("blake3_alephium", "Blake3"),
    ("verushash", "VerusHash"),
    # Equihash's members by their parameters, however the program writes them.
    ("equihash125_4", "Equihash 125,4"), ("EQUI144_5", "Equihash 144,5"),
    ('Equihash 150,5 "Beam-PoW"', "Equihash 150,5"),
    # Not in the table: the name as written; nobody said: None.
    ("xelishashv3", "xelishashv3"), ("cn-heavy/xhv", "cn-heavy/xhv"), (" cnv8 ", "cnv8"),
    (None, None), ("", None), ("unknown", None),
])
def test_every_spelling_finds_one_name(written, name):
    assert canonical(written) == name


@pytest.mark.parametrize(("name", "symbol"), [
    ("SHA256", "TH/s"), ("kHeavyHash", "TH/s"), ("Kadena", "TH/s"), ("Scrypt", "GH/s"), ("X11", "GH/s"),
    ("KawPow", "MH/s"), ("Ethash", "MH/s"), ("Autolykos2", "MH/s"), ("RandomX", "kH/s"),
    ("Equihash 125,4", "Sol/s"), ("xelishashv3", "MH/s"), (None, "MH/s"),
])
def test_each_algorithm_reads_in_its_usual_unit(name, symbol):
    assert unit(name).symbol == symbol


def test_names_numbers_and_spellings_are_each_one_algorithms():
    names = [a.name for a in ALGORITHMS]
    numbers = [a.number for a in ALGORITHMS]
    spellings = [algorithms._key(s) for a in ALGORITHMS for s in (a.name, *a.aliases)]
    assert len(set(names)) == len(names) and len(set(spellings)) == len(spellings)
    assert numbers == list(range(1, len(ALGORITHMS) + 1))  # a row number is never reused nor renumbered


def test_an_algorithm_the_table_lacks_has_a_row_of_its_own_the_same_everywhere():
    row = number("xelishashv3")
    assert 2**30 < row <= 2**31 - 1 and row == number("xelishashv3") != number("xelishashv2")
    assert number("RandomX") == number("rx/0") == 12


def test_text_keeps_the_algorithms_unit_whatever_the_value():
    assert text(234e12, "SHA256") == "234.00 TH/s"
    assert text(1.2e12, "sha256d") == "1.20 TH/s"
    assert text(4.68e18, "SHA256") == "4,680,000.00 TH/s"
    assert text(244.48e6, "kawpow") == "244.48 MH/s"
    assert text(18_920.0, "rx/0") == "18.92 kH/s"
    assert text(504e6, "Scrypt") == "0.504 GH/s"  # below one unit: three significant digits
    assert text(0.0, "SHA256") == "0.00 TH/s" and text(None, "SHA256") == "-"


def test_totals_add_only_within_an_algorithm():
    rates = [("SHA256", 110e12), ("sha256d", 1.2e12), ("Scrypt", 9.5e9), ("kawpow", 30e6), ("KAWPOW", 31e6),
             ("xelishashv3", 5e5), ("rx/0", 18_920.0), (None, 1e12), ("Scrypt", None)]
    assert totals(rates) == {"SHA256": 111.2e12, "Scrypt": 9.5e9, "KawPow": 61e6, "RandomX": 18_920.0,
                             "xelishashv3": 5e5}
    assert list(totals(rates)) == ["SHA256", "Scrypt", "KawPow", "RandomX", "xelishashv3"]  # the table's order


def test_the_poll_table_names_each_miners_algorithm_and_reads_it_in_its_unit():
    s19 = MinerSnapshot("10.0.0.5", 4028, make="Bitmain", model="Antminer S19 Pro", firmware="stock",
                        algorithm="SHA256", reachable=True, hashrate_hs=110.4e12)
    l7 = MinerSnapshot("10.0.0.6", 4028, make="Bitmain", model="Antminer L7", firmware="stock",
                       algorithm="Scrypt", reachable=True, hashrate_hs=9.51e9)
    down = MinerSnapshot("10.0.0.7", 4028, error="no answer on 10.0.0.7:4028 within 3 s")
    lines = poll_table([s19, l7, down]).splitlines()
    assert lines[0].split()[:6] == ["IP", "MAKE", "MODEL", "FIRMWARE", "ALGORITHM", "HASHRATE"]
    assert "SHA256     110.40 TH/s" in lines[1] and "Scrypt     9.51 GH/s" in lines[2]
    assert lines[3].endswith("no answer on 10.0.0.7:4028 within 3 s") and lines[4] == "2 of 3 miners answered"
