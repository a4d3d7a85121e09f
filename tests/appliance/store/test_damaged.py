"""A damaged Parquet file costs that file: the commander's jobs set it aside and go on (rebuilding
latest/ and rollups), readers (queries, export) skip it and name it, a file it cannot read because
of permissions is left alone."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pandas as pd
import pytest

from appliance.store.compaction import compact
from appliance.store.export import register, run
from appliance.store.jobs import maintain, store_cycle
from appliance.store.latest import latest_path, read_latest
from appliance.store.layout import dataset
from appliance.store.query import latest, miner_history, read_range
from appliance.store.rollup import rollup
from appliance.store.settings import StorageSettings
from tests.appliance.damage import (PARQUET, as_another_user, lines_naming, parquet_page_garbage, random_bytes,
                                    reachable_by_anyone, set_aside_copy, truncated)

from .helpers import CYCLE, T0, key, snapshot

WAYS = pytest.mark.parametrize("damage", list(PARQUET.values()), ids=list(PARQUET))
MINUTE = timedelta(minutes=1)


def cycle(state, moment, miners=range(7)):
    """One cycle of ``miners`` (miner 6 does not answer); returns its miners file."""
    written = store_cycle(state, [snapshot(i, moment) for i in miners], moment)
    return next(path for path in written if path.parts[-3] == "miners")


def rows_at(state, moment, table="miners"):
    return read_range(state, table, moment, moment + MINUTE).num_rows


@WAYS
def test_a_damaged_latest_file_is_set_aside_and_rebuilt_from_the_last_hour(state, caplog, damage):
    cycle(state, T0)
    cycle(state, T0 + CYCLE)
    path = latest_path(state, "miners")
    damage(path)
    damaged = path.read_bytes()
    now = T0 + 2 * CYCLE
    cycle(state, now, miners=range(3))  # 3 to 6 silent this cycle
    assert rows_at(state, now) == 3
    assert set_aside_copy(path).read_bytes() == damaged
    [line] = lines_naming(caplog, path)
    assert "set aside as miners.parquet.corrupt-" in line and "rebuilding it from the last hour of metrics/miners" in line
    times = dict(zip(read_latest(state)["device"].to_pylist(), read_latest(state)["time"].to_pylist()))
    assert times == {key(i): now for i in range(3)} | {key(i): T0 + CYCLE for i in range(3, 7)}


def test_a_rebuilt_latest_keeps_the_boards_of_a_miner_down_now(state):
    cycle(state, T0)
    truncated(latest_path(state, "boards"))
    down = snapshot(6, T0 + CYCLE)
    down.ip = "10.0.0.1"  # miner 1 stops answering: it has no boards this cycle
    store_cycle(state, [snapshot(0, T0 + CYCLE), down], T0 + CYCLE)
    boards = read_latest(state, "boards").to_pandas()
    assert boards.groupby("device")["time"].max().to_dict() == {key(i): T0 for i in range(1, 6)} | {
        key(0): T0 + CYCLE}
    assert len(boards) == 6 * 3


def test_a_reader_of_a_damaged_latest_file_gets_none_and_leaves_it(state, caplog):
    cycle(state, T0)
    path = latest_path(state, "miners")
    random_bytes(path)
    assert latest(state).empty and latest(state).empty
    assert len(lines_naming(caplog, path)) == 1  # once, however often the dashboard asks
    assert path.exists() and not list(path.parent.glob("*.corrupt-*"))


@WAYS
def test_compaction_sets_a_damaged_cycle_file_aside_and_merges_the_others(state, caplog, damage):
    files = [cycle(state, T0 + c * CYCLE) for c in range(4)]
    damage(files[1])
    damaged = files[1].read_bytes()
    merged = compact(state, dataset("miners"), T0 + timedelta(minutes=8))
    assert [p.name for p in merged] == ["min5-0000.parquet"]
    assert pd.read_parquet(merged[0])["time"].drop_duplicates().tolist() == [T0, T0 + 2 * CYCLE, T0 + 3 * CYCLE]
    aside = set_aside_copy(files[1])
    assert aside.name.startswith("_cycle-") and aside.read_bytes() == damaged
    [line] = lines_naming(caplog, files[1])
    assert "compacting the rest without it" in line
    # The set-aside file stays with its partition through the next swap, and pandas reads around it.
    assert compact(state, dataset("miners"), T0 + timedelta(hours=1, minutes=3))
    assert aside.read_bytes() == damaged
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 3 * 7


@pytest.mark.parametrize("damage", [truncated, parquet_page_garbage], ids=["truncated", "a garbage page"])
def test_a_rollup_leaves_out_a_damaged_raw_file_and_sets_it_aside(state, caplog, damage):
    files = [cycle(state, T0 + c * CYCLE, miners=range(2)) for c in range(4)]
    damage(files[2])
    written = rollup(state, "miners", T0 + timedelta(hours=2))
    assert sorted(p.parent.parent.name for p in written) == ["miners_1h", "miners_5m"]
    samples = pd.read_parquet(state / "rollups" / "miners_1h")["samples"].tolist()
    assert samples == [3, 3]
    set_aside_copy(files[2])
    assert len(lines_naming(caplog, files[2])) == 1


def test_a_damaged_day_of_rollups_is_set_aside_and_rolled_up_again_from_the_raw_rows(state, caplog):
    for c in range(4):
        cycle(state, T0 + c * CYCLE, miners=range(2))
    settings = StorageSettings.from_mapping({"state_dir": str(state)}, "test")
    maintain(settings, T0 + timedelta(days=1, hours=1))
    day = state / "rollups" / "miners_1h" / "date=2026-11-01" / "day.parquet"
    before = pd.read_parquet(day)
    random_bytes(day)
    maintain(settings, T0 + timedelta(days=1, hours=2))
    set_aside_copy(day)
    assert len(lines_naming(caplog, day)) == 1
    assert pd.read_parquet(day).equals(before)  # rolled up and compacted again


def test_readers_skip_a_damaged_file_name_it_once_and_leave_it(state, caplog):
    files = [cycle(state, T0 + c * CYCLE) for c in range(3)]
    truncated(files[1])
    assert read_range(state, "miners", T0, T0 + timedelta(hours=1)).num_rows == 2 * 7
    assert len(miner_history(state, key(0), T0, T0 + timedelta(hours=1))) == 2
    assert len(lines_naming(caplog, files[1])) == 1
    assert files[1].exists() and len(list(files[1].parent.iterdir())) == 3


def export_cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="minerwatch")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["export", *argv])


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_export_names_each_damaged_file_and_exports_the_rest_or_refuses_if_strict(state, tmp_path, capsys, strict):
    files = [cycle(state, T0 + c * CYCLE) for c in range(4)]
    truncated(files[1])
    parquet_page_garbage(files[3])
    out = tmp_path / "out.csv"
    args = ["--from", "2026-11-01", "--to", "2026-11-01", "--state-dir", str(state), "--out", str(out)]
    status = run(export_cli(*args, *(["--strict"] if strict else [])))
    err = capsys.readouterr().err
    assert "Traceback" not in err and all(f.exists() for f in files)  # a reader never sets aside
    if strict:
        assert status == 1 and not out.exists()
        assert err.strip() == (f"minerwatch export: {files[1]} is damaged (Parquet magic bytes not found in footer); "
                               "nothing exported (--strict)")
        return
    assert status == 0
    assert len(pd.read_csv(out)) == 2 * 7
    lines = err.strip().splitlines()
    assert lines[0] == (f"minerwatch export: {files[1]} is damaged (Parquet magic bytes not found in footer); "
                        "exported without it")
    assert lines[1].startswith(f"minerwatch export: {files[3]} is damaged (Couldn't deserialize thrift: ")
    assert lines[1].endswith("); exported without it") and lines[1].isprintable()
    assert len(lines) == 3 and lines[2].startswith("exported 14 rows")


def test_a_file_it_may_not_read_is_not_damaged_and_stays():
    with reachable_by_anyone() as shared:
        state = shared / "state"
        first = cycle(state, T0)
        cycle(state, T0 + CYCLE)
        path = latest_path(state, "miners")
        for unreadable in (path, first):
            unreadable.chmod(0)
        done = as_another_user(
            "import sys; from pathlib import Path; from appliance.store.latest import load_latest; "
            "from tests.appliance.store.helpers import T0; load_latest(Path(sys.argv[1]), 'miners', T0)", str(state))
        assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith("PermissionError: [Errno 13]")
        exported = as_another_user("import sys; from appliance.cli import main; sys.exit(main(sys.argv[1:]))",
                                   "export", "--from", "2026-11-01", "--to", "2026-11-01", "--state-dir", str(state),
                                   "--out", str(shared / "out.csv"))
        assert exported.returncode == 1
        assert exported.stderr == (f"minerwatch export: could not export miners to {shared / 'out.csv'}: Failed to "
                                   f"open local file '{first}'. Detail: [errno 13] Permission denied\n")
        assert "damaged" not in done.stderr + exported.stderr
        assert path.exists() and first.exists() and not list(state.rglob("*.corrupt-*"))
