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
