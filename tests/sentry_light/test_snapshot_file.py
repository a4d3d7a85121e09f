"""The snapshot file: round trip, atomic replacement under a concurrent reader, a missing or corrupt
file in one sentence, and LibreNMS's extend envelope."""

from __future__ import annotations

import json
import os
import threading

import pytest

from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot
from sentry_light.snapshot_file import SnapshotError, extend_document, read_snapshot, write_snapshot

NOW = 1_700_000_000.0


def rig(n: int = 0) -> RigSnapshot:
    return RigSnapshot(
        hostname="rig-007", collected_at=NOW, uptime_s=3600, hashrate_by_algorithm_hs={"KawPow": 1.5e8 + n},
        cpu=Cpu(model="AMD Ryzen 9 5950X 16-Core Processor", threads=32, temp_c=61.0),
        gpus=[Gpu(bus_id=f"0000:{i:02x}:00.0", vendor="nvidia", hashrate_hs=3e7 + n, temp_c=60.0) for i in range(1, 9)],
        programs=[MinerProgram(name="trex", api_up=True, algorithm="kawpow", hashrate_hs=1.5e8 + n, port=4067),
                  MinerProgram(name="lolminer", port=8020, error="nothing answers on 127.0.0.1:8020")],
        faults=["GPU 0000:03:00.0 lost"], absent=["AMD: no GPU driven by amdgpu under /sys/class/drm"])


def test_round_trip(tmp_path):
    path = tmp_path / "rig.json"
    write_snapshot(rig(), path)
    assert read_snapshot(path) == rig()
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["rig.json"]  # no temporary file left behind


def test_keys_a_newer_writer_adds_are_ignored(tmp_path):
    path = tmp_path / "rig.json"
    data = rig().to_dict()
    data["new_key"] = 1
    data["gpus"][0]["new_gpu_key"] = 2
    path.write_text(json.dumps(data))
    assert read_snapshot(path) == rig()


def test_a_reader_never_sees_a_partial_file(tmp_path):
    path = tmp_path / "rig.json"
    write_snapshot(rig(), path)
    done, seen, bad = threading.Event(), [], []

    def reader() -> None:
        while not done.is_set():
            try:
                seen.append(read_snapshot(path).hashrate_by_algorithm_hs["KawPow"])
            except SnapshotError as exc:
                bad.append(str(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(100):
            write_snapshot(rig(n), path)
    finally:
        done.set()
        thread.join()
    assert bad == [] and seen
    assert set(seen) <= {1.5e8 + n for n in range(100)}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "rig.json"
    write_snapshot(rig(1), path)

    def refuse(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SnapshotError, match=f"Cannot write the rig snapshot {path}: No space left on device"):
        write_snapshot(rig(2), path)
    assert read_snapshot(path).hashrate_by_algorithm_hs == {"KawPow": 1.5e8 + 1}
    assert [p.name for p in tmp_path.iterdir()] == ["rig.json"]


@pytest.mark.parametrize("content, sentence", [
    (None, "There is no rig snapshot at {path} yet: is minerwatch-sentry.service running?"),
    ('{"hostname": "rig-0", "cpu": {"mod', "{path} is not a rig snapshot (Unterminated string"),
    ("[1, 2]", "{path} is not a rig snapshot (no hostname at its top level)."),
    ('{"gpus": [{"bus_id": "0000:01:00.0"}]}', "{path} is not a rig snapshot (no hostname at its top level)."),
])
def test_a_missing_or_corrupt_file_is_one_sentence(tmp_path, content, sentence):
    path = tmp_path / "rig.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SnapshotError) as error:
        read_snapshot(path)
    assert str(error.value).startswith(sentence.format(path=path))


def test_extend_envelope(tmp_path):
    path = tmp_path / "rig.json"
    missing = extend_document(path, 45, now=NOW)
    assert (missing["version"], missing["error"], missing["data"]) == (1, 1, {})
    assert missing["errorString"].startswith("There is no rig snapshot")
    write_snapshot(rig(), path)
    fresh = extend_document(path, 45, now=NOW + 10)
    assert fresh == {"version": 1, "error": 0, "errorString": "", "data": rig().to_dict()}
    stale = extend_document(path, 45, now=NOW + 600)
    assert (stale["error"], stale["data"]) == (2, rig().to_dict())
    assert stale["errorString"] == f"The rig snapshot {path} is 600 s old: is minerwatch-sentry.service running?"


def test_a_damaged_record_in_the_file_costs_that_record_only(tmp_path):
    # The file is read as the commander reads the same JSON over SNMP (collectors.rig_snapshot):
    # a GPU that is not a record, or a value no GPU has, is dropped; the rest stands.
    path = tmp_path / "rig.json"
    path.write_text('{"hostname": "rig-0", "gpus": [3, {"bus_id": "0000:01:00.0", "temp_c": 900}], '
                    '"memory_used_pct": 40}')
    snapshot = read_snapshot(path)
    assert (snapshot.hostname, snapshot.memory_used_pct) == ("rig-0", 40)
    assert [(g.bus_id, g.temp_c) for g in snapshot.gpus] == [("0000:01:00.0", None)]
