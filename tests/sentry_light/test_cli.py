"""``minerwatch-sentry``: show names every absent source; collect --once and extend through the
snapshot file; the service loop logs a state once, not every cycle; mistakes are one sentence."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest

from sentry_light import cli, collect, service
from sentry_light.config import parse
from sentry_light.snapshot_file import SnapshotError, read_snapshot
from tests.sentry_light.conftest import TESTDATA
from tests.sentry_light.fake_nvml import FakeNvml


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_nvidia(monkeypatch):
    for module in (collect, service):
        monkeypatch.setattr(module, "default_nvml", lambda: FakeNvml(library=False))


@pytest.fixture
def config_file(tmp_path):
    ports = {"lolminer": closed_port(), "trex": closed_port()}
    path = tmp_path / "sentry.toml"
    path.write_text(f"""
interval_s = 0.5
timeout_s = 0.4
snapshot_path = "{tmp_path / 'rig.json'}"
sysfs_root = "{TESTDATA / 'sysfs' / 'nvidia-only'}"

[programs]
look_for = ["lolminer", "trex"]
[programs.ports]
lolminer = {ports['lolminer']}
trex = {ports['trex']}
""")
    return path, ports


def test_show_names_every_absent_source(no_nvidia, config_file, capsys):
    path, ports = config_file
    assert cli.main(["--config", str(path), "show"]) == 0
    out = capsys.readouterr().out
    for line in ("NVIDIA: no driver (libnvidia-ml.so.1 not found)",
                 f"AMD: no GPU driven by amdgpu under {TESTDATA / 'sysfs' / 'nvidia-only' / 'class' / 'drm'}",
                 f"lolMiner: nothing answers on 127.0.0.1:{ports['lolminer']}",
                 f"T-Rex: nothing answers on 127.0.0.1:{ports['trex']}"):
        assert line in out
    assert "No GPU found." in out and "No mining program answers." in out and "Traceback" not in out


def test_show_json(no_nvidia, config_file, capsys):
    assert cli.main(["--config", str(config_file[0]), "show", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in document["programs"]] == ["lolminer", "trex"]


def test_collect_once_then_extend(no_nvidia, config_file, tmp_path, capsys):
    path, _ = config_file
    assert cli.main(["--config", str(path), "extend"]) == 0
    missing = json.loads(capsys.readouterr().out)
    assert (missing["version"], missing["error"]) == (1, 1) and "no rig snapshot" in missing["errorString"]
    assert cli.main(["--config", str(path), "collect", "--once"]) == 0
    snapshot = read_snapshot(tmp_path / "rig.json")
    assert snapshot.absent[0] == "NVIDIA: no driver (libnvidia-ml.so.1 not found)"
    capsys.readouterr()
    assert cli.main(["--config", str(path), "extend"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["version"], document["error"], document["errorString"]) == (1, 0, "")
    assert document["data"] == snapshot.to_dict()


def test_a_config_mistake_is_one_sentence(tmp_path, capsys):
    path = tmp_path / "sentry.toml"
    path.write_text("interval_s = 15\ninterval = 3\n")
    assert cli.main(["--config", str(path), "show"]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}:2: unknown key 'interval' in sentry.toml (did you mean 'interval_s'?)\n"


async def test_the_service_logs_a_state_once_across_cycles(no_nvidia, config_file, tmp_path, caplog):
    config = parse(config_file[0].read_text())
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="sentry_light")
    task = asyncio.create_task(service.run(config, stop=stop))
    written: set[float] = set()
    while len(written) < 3:  # three cycles, whatever their pace
        await asyncio.sleep(0.05)
        if config.snapshot_path.exists():
            written.add(read_snapshot(config.snapshot_path).collected_at)
    stop.set()
    assert await task == 0
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("NVIDIA: no driver (libnvidia-ml.so.1 not found)") == 1
    assert sum("Traceback" in m or m.startswith("the collection failed") for m in messages) == 0
    assert sum("lolMiner: nothing answers" in m for m in messages) == 1


async def test_a_failing_cycle_is_logged_once_and_the_service_goes_on(no_nvidia, config_file, monkeypatch, caplog):
    config = parse(config_file[0].read_text())
    stop, attempts = asyncio.Event(), []

    def refuse(snapshot, path):
        attempts.append(path)
        if len(attempts) == 3:
            stop.set()
        raise SnapshotError(f"Cannot write the rig snapshot {path}: Read-only file system.")

    monkeypatch.setattr(service, "write_snapshot", refuse)
    caplog.set_level(logging.INFO, logger="sentry_light")
    assert await service.run(config, stop=stop) == 0
    failures = [r for r in caplog.records if r.getMessage().startswith("the collection failed")]
    assert len(attempts) == 3 and len(failures) == 1


def test_the_sentry_runs_with_only_what_a_rig_installs(config_file, tmp_path):
    # A rig installs minerwatch[sentry]; what only the commander installs must never be imported.
    import subprocess
    import sys
    import tomllib

    from tests.conftest import REPO

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "pandas>=2.1" in extras["commander"] and not any("pandas" in d for d in extras["sentry"])
    commander_only = ["pandas", "pyarrow", "pysnmp", "apscheduler", "asyncssh", "uvloop", "tqdm"]
    path, _ = config_file
    script = (f"import sys\nfor name in {commander_only!r}:\n    sys.modules[name] = None\n"
              "from sentry_light.cli import main\n"
              f"sys.exit(main(['--config', {str(path)!r}, 'collect', '--once']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "rig.json").read_text())["hostname"]
