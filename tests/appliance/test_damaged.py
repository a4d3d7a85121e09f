"""appliance.damaged: setting a file aside (never deleting it), finding the set-aside files again, and
telling a JSON state file of the wrong shape."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import with_config

from appliance.damaged import STRICT, Damaged, SetAside, parsed, set_aside, set_aside_files


def test_set_aside_renames_beside_it_and_says_so_in_one_line(tmp_path, caplog):
    path = tmp_path / "alerts.json"
    path.write_text("{\"version\": 1, \"alerts\"")
    before = datetime.now(UTC).replace(microsecond=0)
    aside = set_aside(path, "it ends in the middle", then="starting with no alerts")
    assert not path.exists() and aside.parent == tmp_path
    assert aside.read_text() == "{\"version\": 1, \"alerts\""
    [entry] = set_aside_files(tmp_path)
    assert entry == SetAside(aside, path, entry.at) and before <= entry.at <= datetime.now(UTC)
    assert aside.name == f"alerts.json.corrupt-{entry.at:%Y%m%dT%H%M%SZ}"
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.getMessage() == (f"{path} is damaged (it ends in the middle); set aside as {aside.name}, "
                                 "starting with no alerts")


def test_a_database_moves_with_its_journal_and_a_second_one_gets_its_own_name(tmp_path):
    path = tmp_path / "inventory.sqlite3"
    first = []
    for round_ in range(2):
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"inventory.sqlite3{suffix}").write_text(f"{round_}{suffix}")
        first.append(set_aside(path, "database disk image is malformed"))
    assert first[0] != first[1] and not path.exists()
    for round_, aside in enumerate(first):
        assert [aside.with_name(aside.name + s).read_text() for s in ("", "-wal", "-shm")] == [
            f"{round_}", f"{round_}-wal", f"{round_}-shm"]
    assert [e.path for e in set_aside_files(tmp_path)] == first  # the journals are not listed apart


def test_inside_a_partition_the_name_hides_it_from_dataset_readers(tmp_path):
    partition = tmp_path / "metrics" / "miners" / "date=2026-12-02"
    partition.mkdir(parents=True)
    path = partition / "cycle-20261202T114500.000Z.parquet"
    path.write_bytes(b"PAR1")
    aside = set_aside(path, "Parquet magic bytes not found in footer")
    assert aside.name.startswith("_cycle-20261202T114500.000Z.parquet.corrupt-")
    [entry] = set_aside_files(tmp_path)
    assert (entry.path, entry.original) == (aside, path)


def test_set_aside_files_walks_the_state_directory_but_not_compactions_work_areas(tmp_path):
    (tmp_path / "latest").mkdir()
    (tmp_path / ".staging" / "retired-1-x").mkdir(parents=True)
    (tmp_path / ".staging" / "retired-1-x" / "_cycle-x.parquet.corrupt-20261202T114501Z").write_text("")
    (tmp_path / "latest" / "miners.parquet.corrupt-20261202T114501Z").write_text("")
    (tmp_path / "alerts.json.corrupt-20261101T000000Z-2").write_text("")
    (tmp_path / "alerts.json.corrupt-soon").write_text("")  # not a name set_aside gives
    found = set_aside_files(tmp_path)
    assert [e.path.relative_to(tmp_path).as_posix() for e in found] == [
        "alerts.json.corrupt-20261101T000000Z-2", "latest/miners.parquet.corrupt-20261202T114501Z"]
    assert found[0].at == datetime(2026, 11, 1, tzinfo=UTC) and found[1].at - found[0].at > timedelta(days=30)


def test_a_rename_that_fails_is_one_sentence(tmp_path):
    with pytest.raises(OSError, match=r"^\[Errno 2\] .*alerts.json is damaged \(bad\) and cannot be set aside: "
                                      "No such file or directory$"):
        set_aside(tmp_path / "alerts.json", "bad")


@with_config(STRICT)
@dataclass
class Sample:
    name: str
    at: float
    value: float | str | None = None
    points: list[list[float]] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)


def test_parsed_builds_what_has_the_declared_types():
    data = '{"name": "a", "at": 1, "points": [[1, 2.5]], "seen": {"x": 3}}'
    assert parsed(Sample, data) == Sample("a", 1, None, [[1, 2.5]], {"x": 3})
    assert parsed(list[Sample], f"[{data}]") == [Sample("a", 1, None, [[1, 2.5]], {"x": 3})]


@pytest.mark.parametrize(("data", "says"), [
    ('{"version": 1, "alerts"', "the top level: invalid json: eof while parsing"),
    ("[]", "the top level: input should be an object"),
    ('{"name": "a", "at": "noon"}', "at: input should be a valid number"),
    ('{"name": "a", "at": true}', "at: input should be a valid number"),  # true is no 1
    ('{"name": "a", "at": "1"}', "at: input should be a valid number"),  # nor "1"
    ('{"name": "a", "at": 1, "points": [[1, "x"]]}', "points.0.1: input should be a valid number"),
    ('{"name": "a", "at": 1, "seen": []}', "seen: input should be an object"),
    ('{"name": "a", "at": 1, "colour": "red"}', "colour: unexpected keyword argument"),
    ('{"name": "a"}', "at: field required"),
    ('{"name": 1, "at": "x"}', "name: input should be a valid string (and 1 more)"),
    (b'\xff\xfe', "the top level: invalid json"),
])
def test_parsed_says_where_and_what_is_wrong(data, says):
    with pytest.raises(Damaged, match=f"^{re.escape(says)}"):
        parsed(Sample, data)
