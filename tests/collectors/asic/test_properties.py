"""Properties from the decoder to the drivers: any mutation of any testdata reply, written as a
firmware writes it (its defects included), read by the decoder and mapped by the folder's driver,
gives a snapshot (a reply no repair can read is the project's own ProtocolError, and that endpoint
is then missing, as in a poll), within a time and memory budget; the snapshot's JSON form is strict
JSON whose integers fit 64 bits, whose floats are finite, and whose texts and lists keep their caps.

Mutations: a value replaced by a huge integer, 1e305, -1, a NaN string, a long string made to make
patterns backtrack, nested junk, a list where an object was or the reverse, a list of 10,000
items, 100,000 levels of nesting, and every count of the reply set to 1e11.
"""

from __future__ import annotations

import json
import math
import time
import tracemalloc
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors import limits
from collectors.asic import DRIVERS
from collectors.errors import ProtocolError
from collectors.model import MinerSnapshot
from collectors.transport.decode import decode
from collectors.transport.rpc import MAX_BYTES
from tests.collectors.asic.driver_cases import cases, load_expected, load_replies
from tests.collectors.transport.test_decode_properties import defective

MAX_S = 2.0  # decoding and parsing take milliseconds; trusting a count or a regex, minutes
MAX_PARSE_MB = 16  # what a parse allocates (a snapshot is a few KB); a trusted count, all there is
DEEP = "\x00deep\x00"  # a value written as 100,000 nested lists (no Python object nests that deep)
DEEP_TEXT = "[" * 100_000 + "]" * 100_000

hostile_scalars = st.one_of(
    st.sampled_from([10**400, -(10**400), 1e305, -1e305, -1, 0, 2**63, 2**64, 1e11, 10**18, 0.5,
                     "nan", "inf", "-nan", "1e400", "", "N/A", True, None,
                     "V" * 200_000, "M1" + "V" * 100_000 + "!", "1" * 100_000 + "x", "a" * 100_000 + "[",
                     "Ver[" + "a" * 100_000, "78-" * 50_000, " 1" * 100_000]),
    st.floats(), st.integers(-(10**40), 10**40), st.text(max_size=30),
)
junk = st.recursive(hostile_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                    max_leaves=8)


def mutate(node: Any, data: st.DataObject) -> Any:
    """``node`` replaced by something hostile, or turned into another shape of itself."""
    how = data.draw(st.sampled_from(["replace", "junk", "wrap", "unwrap", "many", "deep"]))
    if how == "replace":
        return data.draw(hostile_scalars)
    if how == "junk":
        return data.draw(junk)
    if how == "wrap":  # a list where an object was (or a list of a list)
        return [node]
    if how == "unwrap":  # an object where a list was, keyed by position
        return {str(i): v for i, v in enumerate(node)} if isinstance(node, list) else {"0": node}
    if how == "many":  # the same thing 10,000 times over, or as many as half a reply can hold
        size = len(json.dumps(node)) + 1
        return [node] * max(1, min(10_000, MAX_BYTES // 2 // size))
    return DEEP


def pick(reply: Any, data: st.DataObject) -> list[Any]:
    """A path from the reply's root to one of its values, walked as ``data`` says."""
    path: list[Any] = []
    node = reply
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(node) - 1))
        step = next(islice(node, index, None)) if isinstance(node, dict) else index
        path.append(step)
        node = node[step]
    return path


def with_counts_at(node: Any, value: Any) -> Any:
    """Every value under a key that names a count ("fan_num", "Board Count") set to ``value``."""
    if isinstance(node, dict):
        return {k: value if any(w in k.lower() for w in ("num", "count")) else with_counts_at(v, value)
                for k, v in node.items()}
    if isinstance(node, list):
        return [with_counts_at(v, value) for v in node]
    return node


def written(reply: Any, data: st.DataObject) -> bytes | None:
    """The reply as a firmware writes it: JSON (NaN and Infinity as Python writes them), with the
    defects the decoder repairs where it is small enough to write char by char, and deep nesting;
    None for a reply longer than any transport reads (it never reaches the decoder)."""
    text = json.dumps(reply)
    deep = text.count(json.dumps(DEEP))
    if len(text) + deep * len(DEEP_TEXT) > MAX_BYTES:
        return None
    if len(text) < 4000:
        text = defective(reply, data)
    return text.replace(json.dumps(DEEP), DEEP_TEXT).encode()


def values(document: Any) -> list[Any]:
    if isinstance(document, dict):
        return [v for value in document.values() for v in values(value)]
    if isinstance(document, list):
        return [v for value in document for v in values(value)]
    return [document]


def assert_sound(snapshot: MinerSnapshot) -> None:
    document = json.loads(json.dumps(snapshot.to_dict(), allow_nan=False))
    for value in values(document):
        if isinstance(value, int) and not isinstance(value, bool):
            assert limits.INT64_MIN <= value <= limits.INT64_MAX, value
        elif isinstance(value, float):
            assert math.isfinite(value), value
        elif isinstance(value, str):
            assert len(value) <= limits.MAX_TEXT, value[:80]
    for key, most in (("boards", limits.MAX_BOARDS), ("fans", limits.MAX_FANS), ("pools", limits.MAX_POOLS),
                      ("errors", limits.MAX_ERROR_CODES)):
        assert len(document[key]) <= most, key
    assert document["dropped_fields"] == sorted(set(document["dropped_fields"]))


@pytest.mark.parametrize("folder", cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_any_mutation_of_a_reply_gives_a_sound_snapshot_in_time(folder: Path):
    driver = DRIVERS[load_expected(folder)["driver"]]

    @settings(max_examples=10, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        replies = load_replies(folder)
        for _ in range(data.draw(st.integers(1, 4))):
            endpoint = data.draw(st.sampled_from(sorted(replies)))
            path = pick(replies[endpoint], data)
            if not path:
                replies[endpoint] = mutate(replies[endpoint], data)
                continue
            parent = replies[endpoint]
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = mutate(parent[path[-1]], data)
        if data.draw(st.booleans()):
            replies = {name: with_counts_at(reply, data.draw(st.sampled_from([1e11, 10**18, -1, "1e11"])))
                       for name, reply in replies.items()}
        raw = {name: body for name, reply in replies.items() if (body := written(reply, data)) is not None}

        started = time.perf_counter()
        decoded = {}
        for name, body in raw.items():
            try:
                decoded[name] = decode(body, "192.0.2.10:4028")
            except ProtocolError:
                continue  # the project's own error: that endpoint failed, as in a poll
        took = time.perf_counter() - started
        assert took < MAX_S, f"decoding took {took:.1f} s"

        tracemalloc.start()
        started = time.perf_counter()
        try:
            snapshot = driver.parse(decoded, "192.0.2.10")
            took = time.perf_counter() - started
            peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
        assert took < MAX_S, f"parsing took {took:.1f} s"
        assert peak_mb < MAX_PARSE_MB, f"parsing took {peak_mb:.0f} MB"
        assert snapshot.reachable
        assert_sound(snapshot)

    check()
