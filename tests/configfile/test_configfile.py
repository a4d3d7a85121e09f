"""configfile: where each key is in the text, and the table reader's sentences, placed at their lines."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path

import pytest

from collectors.targets import TargetError, expand
from configfile import ConfigError, Document, Locator, Problem, Wrong, from_mapping, kinds, ordered


def read(text: str) -> tuple[Document, list[Problem]]:
    problems: list[Problem] = []
    document = Document.parse(Path("farm.toml"), text, problems)
    assert document is not None, problems
    return document, problems


def test_a_table_reports_wrong_missing_and_unknown_keys_at_their_lines() -> None:
    document, problems = read('[pool]\nurl = 5\nport = 3333\nuzer = "farm"\n\n[[rigs]]\nname = "a"\n[[rigs]]\n')
    pool = document.root.table("pool")
    assert (pool.get("url", kinds.text), pool.get("port", kinds.port, 1), pool.get("user", kinds.text, None)) \
        == (None, 3333, None)
    pool.done()
    assert [rig.get("name", kinds.name) for rig in document.root.tables("rigs")] == ["a", None]
    assert [str(p) for p in ordered(problems, document.path)] == [
        "farm.toml:2: 'url' in [pool] must be a non-empty string, not the integer 5",
        "farm.toml:4: unknown key 'uzer' in [pool] (did you mean 'user'?)",
        "farm.toml:8: missing required key 'name' in [[rigs]]",
    ]


def test_a_value_of_the_wrong_shape_for_a_table_is_one_sentence_and_reads_as_empty() -> None:
    document, problems = read('pool = "x"\nrigs = [1, 2]\n')
    assert document.root.table("pool").data == {} and document.root.tables("rigs") == []
    assert [(p.line, p.message) for p in problems] == [
        (1, "[pool] must be a table, not the string 'x'"),
        (2, "[[rigs]] must be an array of tables: give each entry its own [[rigs]] header"),
    ]


def test_a_secret_in_the_wrong_file_says_where_it_goes() -> None:
    document, problems = read('[pool]\npassword = "x"\n')
    document.root.table("pool").done(secrets={"password": "secrets.toml"})
    assert [(p.line, p.message) for p in problems] == [
        (2, "'password' is a secret and does not belong in farm.toml: put it in secrets.toml")]


@pytest.mark.parametrize("kind, value, expected", [
    (kinds.seconds, float("inf"), "a positive number of seconds"),
    (kinds.count, True, "a whole number, 1 or more"),
    (kinds.number(0.5), 0.25, "a number, 0.5 or more"),
    (kinds.boolean, 1, "true or false"),
    (kinds.path, "var/lib", "an absolute path"),
    (kinds.choice("SHA", "none"), "md5", "one of 'SHA', 'none'"),
])
def test_kinds_say_what_they_expected(kind, value, expected) -> None:
    with pytest.raises(Wrong, match=f"^{expected}$"):
        kind(value)


def test_a_choice_takes_any_case_and_gives_its_own_spelling() -> None:
    assert (kinds.choice("SHA-256", "none")("sha-256"), kinds.choice("SHA-256", "none")("NONE")) == ("SHA-256", "none")


def test_a_mapping_is_read_like_a_file_without_lines() -> None:
    def pool(table):
        port = table.get("port", kinds.port)
        table.done()
        return port

    assert from_mapping(pool, {"port": 3333}, "test", ("pool",)) == 3333
    with pytest.raises(ConfigError) as error:
        from_mapping(pool, {"port": 0, "prot": 1}, "test", ("pool",))
    assert str(error.value) == ("test: 'port' in [pool] must be a port number, 1 to 65535, not the integer 0\n"
                                "test: unknown key 'prot' in [pool] (did you mean 'port'?)")


def test_a_syntax_error_is_placed_at_its_line_and_column() -> None:
    problems: list[Problem] = []
    assert Document.parse(Path("farm.toml"), "a = 1\nb = \n", problems) is None
    assert [(p.line, p.column, p.message) for p in problems] == [(2, 5, "invalid value")]


TRICKY = '''\
title = """
[miners]
ip = "not a key" \\"""
"""
'literal' = 'it is # not a comment'
"quoted.key" = { inner = [1, { deep = "x" }], "q k" = 2 }  # comment [x]
a.b . c = 1979-05-27 07:32:00Z

[[fleet]]  # first
name = "one"
[fleet.extra]
x = 1
[[fleet.racks]]
id = 1
[[fleet.racks]]
id = 2

[[fleet]]
[[fleet.racks]]
id = 3
five = """""x"""""
last = [
  # a comment
  "a", 'b',
]
'''


def test_the_locator_places_tables_keys_and_elements() -> None:
    tomllib.loads(TRICKY)  # the locator only ever sees text tomllib accepted
    locator = Locator(TRICKY)
    expected = {
        ("title",): (1, 1),
        ("literal",): (5, 1),
        ("quoted.key",): (6, 1),
        ("quoted.key", "inner", 1, "deep"): (6, 32),
        ("quoted.key", "q k"): (6, 47),
        ("a", "b", "c"): (7, 1),
        ("fleet",): (9, 1),
        ("fleet", 0): (9, 1),
        ("fleet", 0, "name"): (10, 1),
        ("fleet", 0, "extra"): (11, 1),
        ("fleet", 0, "extra", "x"): (12, 1),
        ("fleet", 0, "racks", 1): (15, 1),
        ("fleet", 0, "racks", 1, "id"): (16, 1),
        ("fleet", 1): (18, 1),
        ("fleet", 1, "racks", 0, "id"): (20, 1),
        ("fleet", 1, "racks", 0, "last", 1): (24, 8),
        ("miners",): None,  # inside a string
    }
    assert {place: locator.find(place) if place != ("miners",) else locator.spots.get(place)
            for place in expected} == expected
    assert locator.find(("fleet", 0, "extra", "absent")) == (11, 1)  # the nearest placed ancestor


@pytest.mark.parametrize("text", ["10.0.3.0/30", "10.0.3.7/30", "10.0.3.1-10.0.3.4", "10.0.3.9",
                                  "10.0.3.1 - 10.0.3.2"])
def test_a_subnet_config_accepts_is_what_targets_expand(text: str) -> None:
    """Config checks a subnet without listing its addresses; collectors.targets lists the same ones."""
    subnet = kinds.subnet(text)
    addresses = [int(ipaddress.IPv4Address(target.ip)) for target in expand([text])]
    assert subnet.first <= min(addresses) and max(addresses) <= subnet.last


@pytest.mark.parametrize("text", ["10.0.3.0/33", "10.0.3.9-10.0.3.1", "10.0.3", "@hosts.txt"])
def test_a_subnet_config_refuses_targets_refuse_too(text: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no hosts.txt here
    with pytest.raises(Wrong):
        kinds.subnet(text)
    with pytest.raises(TargetError):
        expand([text])
