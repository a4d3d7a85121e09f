"""``minerwatch export``: a table over a range of time, as one Parquet or CSV file, for use elsewhere.

Rows stream file by file (an hour of raw rows at a time), so an export of months needs no more
memory than an hour. In each hour, rows are ordered by device, then time. In CSV, list columns
(``fan_rpm``, ``error_codes``, ``error_messages``) are JSON arrays and times are ISO 8601 in UTC.
The output file appears only once complete.

A damaged file is left out and named, one sentence each on stderr, and the rest exported; with
``--strict`` the export stops at the first one instead, and writes nothing. Either way the file
stays where it is: export is a reader, and the commander, which owns it, sets it aside.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from appliance import cli_args
from appliance.damaged import Damaged, skip
from appliance.store.files import WRITE_OPTIONS, OnDamaged, each_sound, reread_on_swap
from atomicfile import replacing
from appliance.store.layout import dataset, dataset_names, parts_between
from appliance.store.schema import TIME, utc

FORMATS = ("parquet", "csv")


def export(state_dir: Path, table: str, since: datetime, until: datetime, fmt: str, out_path: Path | None,
           on_damaged: OnDamaged = skip) -> int:
    """Write the rows of dataset ``table`` with ``since <= time < until`` to ``out_path`` (None:
    standard output); returns how many. ``fmt`` is "parquet" or "csv". Each damaged file is left
    out and handed to ``on_damaged`` (which may raise to stop the export: then nothing is written)."""
    if fmt not in FORMATS:
        raise ValueError(f"the format must be parquet or csv, not {fmt!r}")
    data = dataset(table)
    since, until = utc(since, "since"), utc(until, "until")
    in_range = (ds.field("time") >= pa.scalar(since, TIME)) & (ds.field("time") < pa.scalar(until, TIME))

    def rows(path: Path) -> pa.Table:
        # A whole file at a time (an hour of rows at most), so a damaged page never leaves half a file out.
        return ds.dataset([str(path)], schema=data.schema, format="parquet").to_table(filter=in_range)

    def attempt(out: BinaryIO) -> int:
        paths = [p.path for p in parts_between(data.root(state_dir), since, until)]
        batches = (batch for t in each_sound(paths, rows, data.schema, on_damaged) for batch in t.to_batches())
        return _write(batches, data.schema, fmt, out)

    # A long export may see a partition swapped by compaction: it starts again, so it writes to a
    # file it can start over, and standard output gets that file once it is whole.
    if out_path is not None:
        def into_file() -> int:
            with replacing(Path(out_path)) as file:
                return attempt(file)
        return reread_on_swap(into_file, data.root(state_dir))
    with tempfile.TemporaryFile() as spool:  # not in the state directory: a reader may not write there
        def into_spool() -> int:
            spool.seek(0)
            spool.truncate()
            return attempt(spool)
        count = reread_on_swap(into_spool, data.root(state_dir))
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout.buffer)
    return count


def _write(batches: Iterator[pa.RecordBatch], schema: pa.Schema, fmt: str, out: BinaryIO) -> int:
    rows = 0
    if fmt == "parquet":
        with pq.ParquetWriter(out, schema, **WRITE_OPTIONS) as writer:
            writer.write_table(schema.empty_table())
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows
    csv_schema = pa.schema([pa.field(f.name, pa.string()) if _is_list(f) or pa.types.is_floating(f.type) else f
                            for f in schema])
    with pacsv.CSVWriter(out, csv_schema) as writer:
        for batch in batches:
            writer.write_batch(_for_csv(batch, csv_schema))
            rows += batch.num_rows
    return rows


def _is_list(field: pa.Field) -> bool:
    return pa.types.is_list(field.type)


def _for_csv(batch: pa.RecordBatch, csv_schema: pa.Schema) -> pa.RecordBatch:
    """Lists as JSON arrays, and floats in plain decimal (110000000000000, not 1.1e+14, which
    spreadsheets and awk misread), to the micro-unit, without trailing zeros."""
    columns = []
    for field, column in zip(batch.schema, batch.columns):
        if _is_list(field):
            column = pa.array([None if v is None else json.dumps(v) for v in column.to_pylist()], pa.string())
        elif pa.types.is_floating(field.type):
            fixed = pc.cast(pc.cast(column, pa.decimal128(38, 6), safe=False), pa.string())
            column = pc.replace_substring_regex(fixed, r"(\.\d*?[1-9])0+$|\.0+$", r"\1")
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=csv_schema)


def parse_moment(text: str, *, end_of_day: bool) -> datetime:
    """``YYYY-MM-DD`` (the day's start, or with ``end_of_day`` the next day's start, so a --to day is
    included) or an ISO 8601 time (UTC unless it names its offset)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    start = datetime.combine(day, time(), UTC)
    return start + timedelta(days=1) if end_of_day else start


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write stored metrics to a Parquet or CSV file",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="since", required=True, metavar="WHEN",
                        help="first day (YYYY-MM-DD) or time (ISO 8601, UTC unless an offset is given)")
    parser.add_argument("--to", dest="until", required=True, metavar="WHEN",
                        help="last day, included, or the time to stop before")
    parser.add_argument("--format", choices=FORMATS, help="default: from the --out file's suffix")
    parser.add_argument("--table", default="miners", metavar="TABLE",
                        help=f"one of {', '.join(dataset_names())} (default: miners)")
    cli_args.state_dir_args(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the file to write; - for standard output (then say --format)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse to export if a file in the range is damaged (default: leave it out and name it)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The export command; a mistake or a failure is one sentence on stderr and exit status 2 or 1."""
    try:
        since = parse_moment(args.since, end_of_day=False)
        until = parse_moment(args.until, end_of_day=True)
    except ValueError:
        return _fail(f"--from {args.since} or --to {args.until} is not a date (YYYY-MM-DD) or an ISO 8601 time", 2)
    to_stdout = str(args.out) == "-"
    fmt = args.format or ("" if to_stdout else args.out.suffix.lstrip(".").lower())
    directory = cli_args.state_dir(args)
    if directory is None:
        return 2
    checks = [
        (since < until, f"--from {args.since} must come before --to {args.until}"),
        (fmt in FORMATS, "say --format parquet or csv: standard output has no file suffix to tell" if to_stdout
         else f"say --format parquet or csv: {args.out} does not end in .parquet or .csv"),
        (args.table in dataset_names(), f"there is no table {args.table!r}; the tables are {', '.join(dataset_names())}"),
        ((directory / "metrics").is_dir(), f"{directory} holds no minerwatch metrics (no metrics/ directory)"),
        (to_stdout or args.out.parent.is_dir(),
         f"{args.out.parent} is not a directory, so {args.out.name} cannot be written there"),
    ]
    for ok, message in checks:
        if not ok:
            return _fail(message, 2)
    damaged: dict[Path, str] = {}

    def left_out(path: Path, reason: str) -> None:
        if args.strict:
            raise Damaged(f"{path} is damaged ({reason}); nothing exported (--strict)")
        damaged[path] = reason

    try:
        rows = export(directory, args.table, since, until, fmt, None if to_stdout else args.out, on_damaged=left_out)
    except Damaged as exc:
        return _fail(str(exc), 1)
    except OSError as exc:
        return _fail(f"could not export {args.table} to {args.out}: {exc.strerror or exc}", 1)
    except (pa.ArrowException, ValueError) as exc:
        return _fail(f"could not read the {args.table} data under {directory}: {exc}", 1)
    for path, reason in damaged.items():
        print(f"minerwatch export: {path} is damaged ({reason}); exported without it", file=sys.stderr)
    print(f"exported {rows:,} rows of {args.table} to {'standard output' if to_stdout else args.out}",
          file=sys.stderr)
    return 0


def _fail(message: str, status: int) -> int:
    print(f"minerwatch export: {message}", file=sys.stderr)
    return status
