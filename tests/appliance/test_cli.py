"""The `minerwatch` command as a user meets it: a pipe closed early, a plugin that cannot load,
`--config` for every command that reads what the commander keeps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.inventory import Inventory
from collectors.model import MinerSnapshot

CLI = [sys.executable, "-m", "appliance.cli"]


@pytest.fixture
def inventory_of_many(tmp_path: Path) -> Path:
    with Inventory.open(tmp_path) as inventory:
        inventory.upsert_discovered([MinerSnapshot(f"10.0.{n // 250}.{n % 250 + 1}", 4028, reachable=True,
                                                   mac=f"AA:00:00:00:{n // 256:02X}:{n % 256:02X}")
                                     for n in range(3000)], at=100)
    return tmp_path


@pytest.mark.parametrize("command", [["devices"], ["devices", "--json"]])
def test_a_reader_that_stops_early_ends_the_command_quietly(inventory_of_many, command):
    done = subprocess.run(f"{' '.join(CLI)} {' '.join(command)} --state-dir {inventory_of_many} | head -3",
                          shell=True, capture_output=True, text=True, timeout=120,
                          executable="/bin/bash")
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == ""


def test_a_plugin_that_cannot_load_costs_only_its_own_commands(tmp_path):
    # A package registered under minerwatch.commands whose import fails, as after a broken upgrade.
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[minerwatch.commands]\nbroken = broken_plugin:register\n")
    (tmp_path / "broken_plugin.py").write_text("import a_module_that_is_not_installed\n")
    env = os.environ | {"PYTHONPATH": str(tmp_path)}
    done = subprocess.run([*CLI, "status", "--state-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 3, done.stderr  # status itself ran: no health file there
    first = done.stderr.splitlines()[0]
    assert first.startswith("minerwatch: the broken commands are unavailable: broken_plugin:register cannot "
                            "be loaded (ModuleNotFoundError"), first
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["status", "devices", "alerts"])
def test_commands_that_read_the_state_find_it_through_the_configuration(tmp_path, command):
    state = tmp_path / "state"
    config = tmp_path / "commander.toml"
    config.write_text(f'[commander]\nstate_dir = "{state}"\n')
    done = subprocess.run([*CLI, command, "--config", str(config)], capture_output=True, text=True, timeout=120)
    assert str(state) in done.stderr and "Traceback" not in done.stderr, done.stderr  # nothing kept there yet
    missing = subprocess.run([*CLI, command, "--config", str(tmp_path / "nowhere.toml")], capture_output=True,
                             text=True, timeout=120)
    assert "nowhere.toml: cannot read it" in missing.stderr and "--state-dir" in missing.stderr
