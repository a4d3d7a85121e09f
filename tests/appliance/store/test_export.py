"""minerwatch export: a date range of a table to Parquet or CSV, and one sentence for each mistake."""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from appliance.store.export import export, parse_moment, register, run
from appliance.store.jobs import store_cycle

from .helpers import T0, key, snapshot


@pytest.fixture
def three_days(state):
    for d in range(3):
        for c in range(2):
            moment = T0 + timedelta(days=d, hours=12, seconds=30 * c)
            store_cycle(state, [snapshot(i, moment) for i in range(7)], moment)
    return state


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="minerwatch")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["export", *argv])


def test_parquet_export_of_a_day_range_includes_the_last_day(three_days, tmp_path):
    out = tmp_path / "out.parquet"
    args = cli("--from", "2026-11-02", "--to", "2026-11-03", "--state-dir", str(three_days), "--out", str(out))
    assert run(args) == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 2 * 2 * 7
    assert {t.date().isoformat() for t in frame["time"]} == {"2026-11-02", "2026-11-03"}
    assert pd.isna(frame["hw_errors"]).all() and "date" not in frame.columns


def test_csv_export_has_a_header_iso_times_and_json_lists(three_days, tmp_path):
    out = tmp_path / "boards.csv"
    rows = export(three_days, "miners", T0, T0 + timedelta(days=1), "csv", out)
    assert rows == 2 * 7
    with open(out, newline="") as file:
        records = list(csv.DictReader(file))
    first = next(r for r in records if r["device"] == key(0))
    assert first["time"].startswith("2026-11-01") and first["hashrate_hs"] == "110000000000000"  # not 1.1e+14
    assert json.loads(first["fan_rpm"]) == [5400, None] and json.loads(first["error_codes"]) == ["R:1"]
    assert next(r for r in records if r["device"] == key(6))["hashrate_hs"] == ""  # null stays empty


def test_rollups_export_too(three_days, tmp_path):
    assert export(three_days, "boards", T0, T0 + timedelta(days=3), "parquet", tmp_path / "b.parquet") == 3 * 2 * 6 * 3


@pytest.mark.parametrize(("argv", "says"), [
    (["--from", "2026-11-31", "--to", "2026-12-01"], "is not a date"),
    (["--from", "2026-11-03", "--to", "2026-11-01"], "must come before"),
    (["--from", "2026-11-01", "--to", "2026-11-02", "--table", "fans"], "there is no table 'fans'"),
    (["--from", "2026-11-01", "--to", "2026-11-02", "--state-dir", "/nonexistent"], "/nonexistent holds no minerwatch"),
])
def test_mistakes_are_one_sentence_and_status_2(three_days, tmp_path, capsys, argv, says):
    defaults = ["--state-dir", str(three_days), "--out", str(tmp_path / "x.csv")]
    assert run(cli(*defaults, *argv)) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()


def test_format_comes_from_the_suffix_or_must_be_said(three_days, tmp_path, capsys):
    assert run(cli("--from", "2026-11-01", "--to", "2026-11-01", "--state-dir", str(three_days),
                   "--out", str(tmp_path / "x.txt"))) == 2
    assert "--format" in capsys.readouterr().err
    assert run(cli("--from", "2026-11-01", "--to", "2026-11-01", "--state-dir", str(three_days), "--format", "csv",
                   "--out", str(tmp_path / "x.txt"))) == 0


def test_parse_moment_reads_days_and_times_in_utc():
    assert parse_moment("2026-11-01", end_of_day=False) == T0
    assert parse_moment("2026-11-01", end_of_day=True) == T0 + timedelta(days=1)
    assert parse_moment("2026-11-01T06:30", end_of_day=True) == T0 + timedelta(hours=6, minutes=30)
    assert parse_moment("2026-11-01T08:00+02:00", end_of_day=False) == T0 + timedelta(hours=6)


def test_csv_numbers_are_plain_decimals_that_tools_read_as_numbers(three_days, tmp_path):
    out = tmp_path / "miners.csv"
    export(three_days, "miners", T0, T0 + timedelta(days=1), "csv", out)
    assert "e+" not in out.read_text()  # 110000000000000, never 1.1e+14
    frame = pd.read_csv(out)
    assert frame["hashrate_hs"].max() == pytest.approx(110e12) and frame["temp_max_c"].dtype.kind == "f"


def test_export_to_standard_output(three_days):
    # As a user runs it: `minerwatch export ... --out - | ...`, as a process whose stdout is a pipe.
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "export", "--state-dir", str(three_days),
                           "--from", "2026-11-01", "--to", "2026-11-01", "--format", "csv", "--out", "-"],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    records = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    assert len(records) == 2 * 7 and not (three_days / "-").exists()
    assert "to standard output" in done.stderr.decode()
    parquet = subprocess.run([sys.executable, "-m", "appliance.cli", "export", "--state-dir", str(three_days),
                              "--from", "2026-11-01", "--to", "2026-11-01", "--format", "parquet", "--out", "-"],
                             capture_output=True, timeout=120)
    assert pq.read_table(pa.BufferReader(parquet.stdout)).num_rows == 2 * 7
    unsaid = subprocess.run([sys.executable, "-m", "appliance.cli", "export", "--state-dir", str(three_days),
                             "--from", "2026-11-01", "--to", "2026-11-01", "--out", "-"], capture_output=True,
                            text=True, timeout=120)
    assert unsaid.returncode == 2 and "say --format parquet or csv: standard output" in unsaid.stderr
