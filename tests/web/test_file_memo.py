"""The web's memo of the commander's files: one parse per version of a file, a new version (the
commander replaces its files by rename) read again, a failed read never kept."""

from __future__ import annotations

import os

import pytest

import atomicfile
from web.file_memo import FileMemo


def test_a_file_is_parsed_once_per_version(tmp_path):
    memo, reads = FileMemo(keep=2), []
    path = tmp_path / "alerts.json"
    atomicfile.replace(path, "1")

    def read() -> str:
        reads.append(1)
        return path.read_text()

    assert [memo.read(path, "x", read) for _ in range(3)] == ["1", "1", "1"] and len(reads) == 1
    atomicfile.replace(path, "2")  # a new inode, as the commander writes
    assert memo.read(path, "x", read) == "2" and len(reads) == 2
    with open(path, "w") as file:  # rewritten in place, to the same size: the modification time tells
        file.write("3")
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1))
    assert memo.read(path, "x", read) == "3"


def test_a_failed_read_is_not_kept_and_a_missing_file_is_one_version_until_it_appears(tmp_path):
    memo, calls = FileMemo(), []
    path = tmp_path / "latest.parquet"
    path.write_text("damaged")

    def fail() -> None:
        calls.append(1)
        raise ValueError("damaged")

    for _ in range(2):
        with pytest.raises(ValueError):
            memo.read(path, "x", fail)
    assert len(calls) == 2
    missing = tmp_path / "none"
    assert memo.read(missing, "x", lambda: "empty") == "empty"
    assert memo.read(missing, "x", lambda: "again") == "empty"  # still not there: the same answer
    missing.write_text("here")
    assert memo.read([path, missing], "y", lambda: "both") == "both"
    assert memo.read(missing, "x", lambda: "now") == "now"  # it appeared: read again


def test_it_keeps_a_bounded_number_of_files(tmp_path):
    memo = FileMemo(keep=2)
    for n in range(5):
        (tmp_path / str(n)).write_text(str(n))
        memo.read(tmp_path / str(n), "x", lambda n=n: n)
    assert len(memo._kept) == 2
