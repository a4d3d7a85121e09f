"""web.metrics.text: what the Prometheus text format asks of label values, help texts and values,
held to promtool and to the reference client's parser."""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families

from tests.web.test_metrics import promtool_passes
from web.metrics.text import COUNTER, GAUGE, family, label_pairs

AWKWARD = ['back\\slash', 'a "quoted" word', "two\nlines", "naïve ünïcode", "", None]


def test_label_values_help_and_values_read_back_as_written():
    pairs = label_pairs({"key": [f"m{i}" for i in range(len(AWKWARD))], "site": AWKWARD})
    values = [1, 0.1, 1.1e14, 2**53, True, -3.5]
    text = (family("minerwatch_test_power_watts", GAUGE, 'Help with a \\ and\na second line', zip(pairs, values))
            + family("minerwatch_test_events_total", COUNTER, "Counted", [("", 7)]))
    promtool_passes(text)
    [gauge, counter] = text_string_to_metric_families(text)
    assert gauge.documentation == 'Help with a \\ and\na second line'
    assert [(s.labels, s.value) for s in gauge.samples] == [
        ({"key": f"m{i}", "site": site or ""}, float(value)) for i, (site, value) in enumerate(zip(AWKWARD, values))]
    assert (counter.type, [(s.name, s.labels, s.value) for s in counter.samples]) == (
        "counter", [("minerwatch_test_events_total", {}, 7.0)])


def test_a_sample_without_a_finite_value_is_left_out_and_an_empty_family_still_says_what_it_is():
    text = family("minerwatch_test_celsius", GAUGE, "A temperature",
                  [('key="a"', None), ('key="b"', math.nan), ('key="c"', math.inf), ('key="d"', 40.5)])
    promtool_passes(text)
    assert text.splitlines()[2:] == ['minerwatch_test_celsius{key="d"} 40.5']
    assert family("minerwatch_test_none", GAUGE, "Nothing yet", []) == (
        "# HELP minerwatch_test_none Nothing yet\n# TYPE minerwatch_test_none gauge\n")
