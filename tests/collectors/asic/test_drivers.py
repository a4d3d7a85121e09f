"""Every driver over its own testdata folders (see driver_cases.py for the layout)."""

from __future__ import annotations

import pytest

from collectors.asic import DRIVERS
from tests.collectors.asic.driver_cases import assert_matches, cases, load_expected, load_replies


@pytest.mark.parametrize("folder", cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_driver_maps_replies_to_the_snapshot(folder):
    expected = load_expected(folder)
    driver = DRIVERS[expected["driver"]]
    snapshot = driver.parse(load_replies(folder), "192.0.2.10")
    assert_matches(snapshot.to_dict(), expected["snapshot"])


def test_every_driver_has_a_testdata_folder():
    covered = {load_expected(folder)["driver"] for folder in cases()}
    assert covered >= set(DRIVERS), f"drivers without testdata: {sorted(set(DRIVERS) - covered)}"
