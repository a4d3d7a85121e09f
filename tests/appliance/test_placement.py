"""Where the farm map draws a device: its location's text, its rack's room, its site's rule."""

from __future__ import annotations

import pytest

from appliance.placement import Spot, place_rule, room_and_rack, spot


@pytest.mark.parametrize(("text", "expected"), [
    ("R3-C5", Spot(row=3, column=5)), ("r3c5", Spot(row=3, column=5)), (" R12 - C1 ", Spot(row=12, column=1)),
    ("17", Spot(slot=17)), ("shelf 3, slot 2", Spot()), (None, Spot()), ("", Spot())])
def test_a_location_is_a_row_and_column_or_a_slot(text, expected):
    assert spot(text) == expected


def test_a_rack_may_name_its_room():
    assert room_and_rack("C2/R07") == ("C2", "R07")
    assert room_and_rack("R07") == (None, "R07")


def test_a_rule_on_the_address_gives_rack_and_slot():
    rule = place_rule("ip:10.1.{rack}.{slot}")
    assert rule.place("10.1.3.17", None) == ("3", "17")
    assert rule.place("10.2.3.17", None) is None  # another site's addresses: not this rule's
    assert rule.place(None, "host") is None


def test_a_rule_on_the_host_name_gives_room_rack_row_and_column():
    rule = place_rule("host:{room}-r{rack}-s{row}-{column}")
    assert rule.place("10.0.0.1", "c2-r07-s03-4") == ("c2/07", "R3-C4")
    assert rule.place("10.0.0.1", "c2-r07-top-4") is None
    assert rule.place("10.0.0.1", None) is None


@pytest.mark.parametrize("text", ["10.1.{rack}.{slot}", "ip:10.1.{rak}.{slot}", "ip:{rack}.{rack}",
                                  "ip:10.{row}.{slot}", "host:{rack}-{row}", "host:{rack}-{row}-{column}-{slot}"])
def test_a_rule_that_cannot_place_anything_is_refused(text):
    with pytest.raises(ValueError):
        place_rule(text)
