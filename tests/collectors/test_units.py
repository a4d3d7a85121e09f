"""Conversions every driver relies on: a MAC in any spelling is one identity, and a blank one is none."""

from __future__ import annotations

import pytest

from collectors import units


@pytest.mark.parametrize("raw", ["aa:bb:cc:dd:ee:0f", "AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", " AABBCCDDEE0F "])
def test_every_spelling_of_a_mac_is_the_same_address(raw):
    assert units.mac(raw) == "AA:BB:CC:DD:EE:0F"


@pytest.mark.parametrize("raw", ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "", "AA:BB:CC", None, 42, "n/a"])
def test_a_blank_or_broken_mac_is_no_address(raw):
    assert units.mac(raw) is None


@pytest.mark.parametrize("raw", [10**400, -(10**400), float("inf"), "1e400", "-inf"])
def test_a_number_no_float_holds_is_none_not_an_exception(raw):
    assert units.number(raw) is None


@pytest.mark.parametrize("raw", [1e300, 2**63, -(2**63) - 1, "1e19", 10**400])
def test_an_integer_beyond_64_bits_is_none(raw):
    assert units.integer(raw) is None and units.counter(raw) is None


def test_an_integer_is_exact_up_to_64_bits():
    assert units.integer(2**63 - 1) == 2**63 - 1
    assert units.counter(123456789012345678) == 123456789012345678


def test_a_hashrate_no_float_holds_is_none():
    assert units.ghs_to_hs(1e305) is None
    assert units.ths_to_hs(1e300) is None
    assert units.ghs_to_hs(1e3) == 1e12


@pytest.mark.parametrize("raw, most, expected", [
    (1e11, 16, 16), (10**400, 16, 0), ("1e11", 4, 4), (3, 16, 3), ("2", 16, 2), (-1, 16, 0),
    ("nan", 16, 0), (None, 16, 0), ([1], 16, 0), (2.9, 16, 2),
])
def test_a_count_the_device_sends_is_held_to_the_most_a_loop_may_run(raw, most, expected):
    assert units.count(raw, most) == expected


def test_a_text_is_one_line_long_at_most():
    assert units.text("S" * 1_000_000) == "S" * 256
    assert units.mac("AA" + ":" * 1_000_000 + "BBCCDDEEFF") is None


def test_efficiency_of_a_vanishing_hashrate_is_none_not_a_crash():
    assert units.efficiency_jth(3250, 1e-320) is None
    assert units.efficiency_jth(3250, 110e12) == pytest.approx(29.55, abs=0.01)
