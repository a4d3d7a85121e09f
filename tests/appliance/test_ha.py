"""The HA role file keepalived's notify script writes: absent means MASTER; garbage is logged once
and read as MASTER, so a broken pair sends twice rather than not at all."""

from __future__ import annotations

import logging

import pytest

from appliance.ha import role


def test_no_file_means_a_single_commander_the_master(tmp_path):
    assert role(tmp_path / "ha-role") == "MASTER"


@pytest.mark.parametrize("text, expected", [("MASTER\n", "MASTER"), ("BACKUP\n", "BACKUP"), ("FAULT", "FAULT"),
                                            ("backup\n", "BACKUP"), ("STOP\n", "BACKUP")])
def test_the_word_keepalived_wrote(tmp_path, text, expected):
    path = tmp_path / "ha-role"
    path.write_text(text)
    assert role(path) == expected


@pytest.mark.parametrize("content", [b"", b"MAYBE\n", b"\xff\xfe", b"MASTER" * 100])
def test_garbage_reads_as_master_with_one_log_line(tmp_path, caplog, content):
    path = tmp_path / "ha-role"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="appliance.ha"):
        assert [role(path) for _ in range(3)] == ["MASTER"] * 3
        path.write_text("BACKUP\n")
        assert role(path) == "BACKUP"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[0].startswith(f"{path}: the HA role file holds") and "acting as MASTER" in lines[0]
    assert lines[1] == f"{path}: the HA role file reads BACKUP again"


def test_an_unreadable_file_reads_as_master(tmp_path, caplog):
    path = tmp_path / "ha-role"
    path.mkdir()  # not a file: reading it fails the way a broken disk would
    with caplog.at_level(logging.ERROR, logger="appliance.ha"):
        assert role(path) == "MASTER"
    assert "cannot be read" in caplog.records[0].getMessage()
