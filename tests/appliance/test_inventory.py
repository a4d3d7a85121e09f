"""The inventory: one device per miner however its address changes, configured fields kept, shared safely."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.config import Miner, Sentry
from appliance.inventory import INVENTORY_FILE, Inventory, InventoryError
from appliance.store.schema import device_key
from collectors.identify import Identity
from collectors.model import MinerSnapshot, RigSnapshot

REPO = Path(__file__).resolve().parents[2]


def snapshot(ip: str, mac: str | None = None, serial: str | None = None, **fields: object) -> MinerSnapshot:
    return MinerSnapshot(ip, 4028, reachable=True, mac=mac, serial=serial, **fields)


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    with Inventory.open(tmp_path) as opened:
        yield opened


def test_a_miner_that_changed_ip_keeps_its_key(inventory: Inventory) -> None:
    [key] = inventory.upsert_discovered([snapshot("10.0.3.15", "aa:bb:cc:00:00:01", model="Antminer S19")], at=100)
    assert inventory.upsert_discovered([snapshot("10.0.3.99", "AA-BB-CC-00-00-01")], at=200) == [key]
    [device] = inventory.devices()
    assert (device.key, device.ip, device.mac, device.model) == (key, "10.0.3.99", "AA:BB:CC:00:00:01", "Antminer S19")
    assert (device.first_seen, device.last_seen, device.source) == (100, 200, "discovered")


def test_a_serial_is_identity_when_there_is_no_mac(inventory: Inventory) -> None:
    [key] = inventory.upsert_discovered([snapshot("10.0.3.15", serial="SN123")], at=100)
    assert inventory.upsert_discovered([snapshot("10.0.3.16", serial="SN123")], at=200) == [key]
    assert inventory.get(key).ip == "10.0.3.16"


def test_two_miners_that_swapped_addresses_are_not_crossed(inventory: Inventory) -> None:
    a, b = inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A"),
                                        snapshot("10.0.3.11", "AA:00:00:00:00:0B")], at=100)
    assert inventory.upsert_discovered([snapshot("10.0.3.11", "AA:00:00:00:00:0A"),
                                        snapshot("10.0.3.10", "AA:00:00:00:00:0B")], at=200) == [a, b]
    assert (inventory.get(a).ip, inventory.get(b).ip) == ("10.0.3.11", "10.0.3.10")


def test_an_address_taken_by_another_device_is_released(inventory: Inventory) -> None:
    [old] = inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A")], at=100)
    [new] = inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0C")], at=200)
    assert new != old
    assert (inventory.get(old).ip, inventory.get(new).ip) == (None, "10.0.3.10")  # nobody polls it twice


def test_a_shared_placeholder_serial_does_not_merge_two_miners(inventory: Inventory) -> None:
    keys = inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A", serial="0000"),
                                        snapshot("10.0.3.11", "AA:00:00:00:00:0B", serial="0000")], at=100)
    assert len(set(keys)) == 2


def test_a_blank_mac_is_no_identity(inventory: Inventory) -> None:
    keys = inventory.upsert_discovered([snapshot("10.0.3.10", "00:00:00:00:00:00"),
                                        snapshot("10.0.3.11", "00:00:00:00:00:00")], at=100)
    assert keys == ["10.0.3.10", "10.0.3.11"]
    assert inventory.get(keys[0]).mac is None


def test_an_identity_fills_in_the_driver_and_a_later_poll_the_rest(inventory: Inventory) -> None:
    [key] = inventory.upsert_discovered([Identity("10.0.3.12", "braiins", 4028, "RPC version")], at=100)
    assert inventory.upsert_discovered([snapshot("10.0.3.12", "AA:00:00:00:00:0D", hostname="s19-12")],
                                       at=130) == [key]
    device = inventory.get(key)
    assert (device.driver, device.mac, device.hostname, device.key) == ("braiins", "AA:00:00:00:00:0D", "s19-12",
                                                                        "10.0.3.12")


def test_what_found_nothing_is_not_recorded(inventory: Inventory) -> None:
    keys = inventory.upsert_discovered([Identity("10.0.3.13", None, None, "", "no answer on 10.0.3.13"),
                                        MinerSnapshot("10.0.3.14", 4028, reachable=False, error="no answer")])
    assert keys == [None, None] and inventory.devices() == []


def test_configured_fields_beat_discovery(inventory: Inventory) -> None:
    [key] = inventory.sync_configured([Miner("10.0.3.15", None, "antminer", "north", "A1", "shelf 3", ("immersion",))])
    assert inventory.get(key).first_seen is None  # listed, never answered yet
    discovered = snapshot("10.0.3.15", "AA:00:00:00:00:0E", model="Antminer S19")
    assert inventory.upsert_discovered([discovered], at=100, site_for=lambda ip: "south") == [key]
    device = inventory.get(key)
    assert (device.site, device.rack, device.location, device.tags) == ("north", "A1", "shelf 3", ("immersion",))
    assert (device.model, device.mac, device.source, device.first_seen) == ("Antminer S19", "AA:00:00:00:00:0E",
                                                                             "configured", 100)


def test_a_discovered_device_takes_its_site_from_its_address(inventory: Inventory) -> None:
    def site_for(ip: str) -> str:
        return "north" if ip.startswith("10.0.3.") else "south"

    [key] = inventory.upsert_discovered([snapshot("10.0.3.15", "AA:00:00:00:00:0F")], at=100, site_for=site_for)
    assert inventory.get(key).site == "north"
    inventory.upsert_discovered([snapshot("10.1.0.7", "AA:00:00:00:00:0F")], at=200, site_for=site_for)
    assert inventory.get(key).site == "south"


def test_configuring_an_already_discovered_miner_keeps_its_key(inventory: Inventory) -> None:
    [key] = inventory.upsert_discovered([snapshot("10.0.3.15", "AA:00:00:00:00:10")], at=100)
    assert inventory.sync_configured([Miner("10.0.3.15", 4029, site="north", rack="B2")]) == [key]
    device = inventory.get(key)
    assert (device.source, device.port, device.rack, device.first_seen) == ("configured", 4029, "B2", 100)
    inventory.sync_configured([])  # taken out of the configuration: kept, as discovered
    assert inventory.get(key).source == "discovered"


def test_seen_moves_last_seen_forward_only(inventory: Inventory) -> None:
    [key] = inventory.upsert_discovered([snapshot("10.0.3.15", "AA:00:00:00:00:11")], at=100)
    inventory.seen(key, 300)
    inventory.seen(key, 200)  # a late report of an older poll
    assert (inventory.get(key).first_seen, inventory.get(key).last_seen) == (100, 300)


def test_a_restart_finds_the_same_devices(tmp_path: Path) -> None:
    with Inventory.open(tmp_path) as inventory:
        inventory.sync_configured([Miner("10.0.3.15", site="north", tags=("a", "b"))])
        inventory.upsert_discovered([snapshot("10.0.3.16", "AA:00:00:00:00:12")], at=100)
        before = inventory.devices()
    with Inventory.open(tmp_path) as inventory:
        assert inventory.devices() == before
        assert inventory.upsert_discovered([snapshot("10.0.3.50", "AA:00:00:00:00:12")], at=200) == \
            ["AA:00:00:00:00:12"]


def test_an_inventory_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    Inventory.open(tmp_path).close()
    with sqlite3.connect(tmp_path / INVENTORY_FILE) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(InventoryError, match="written by a newer minerwatch"):
        Inventory.open(tmp_path)


def test_a_reader_in_another_process_sees_whole_batches_while_the_commander_writes(tmp_path: Path) -> None:
    batches, batch = 40, 25
    Inventory.open(tmp_path).close()
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from appliance.inventory import Inventory
        counts = set()
        with Inventory.open({str(tmp_path)!r}) as inventory:
            print("ready", flush=True)
            while (count := len(inventory.devices())) < {batches * batch}:
                counts.add(count)
            counts.add(count)
        sys.stdout.write(" ".join(map(str, sorted(counts))))
    """)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline() == "ready\n"
    with Inventory.open(tmp_path) as inventory:
        for n in range(batches):
            inventory.upsert_discovered([snapshot(f"10.{n}.0.{i}", f"AA:00:00:00:{n:02X}:{i:02X}")
                                         for i in range(batch)], at=n)
    out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0
    counts = [int(count) for count in out.split()]
    assert counts[-1] == batches * batch
    assert all(count % batch == 0 for count in counts), counts  # never half a batch


def test_a_key_is_the_one_the_store_files_the_device_under(inventory: Inventory) -> None:
    seen = [snapshot("10.0.3.20", "aa:00:00:00:00:13"), snapshot("10.0.3.21", serial="SN9"), snapshot("10.0.3.22")]
    assert inventory.upsert_discovered(seen, at=100) == [device_key(s) for s in seen]


# --- rigs, and every device's number -----------------------------------------------------------

def sentry(host: str, port: int = 161, **placement: object) -> Sentry:
    return Sentry(host, port, community="c", **placement)


def test_configured_sentries_are_rigs_keyed_by_their_address(inventory: Inventory) -> None:
    keys = inventory.sync_rigs([sentry("10.0.5.7", site="north", rack="R1"), sentry("127.0.0.1", 16100)])
    assert keys == ["10.0.5.7", "127.0.0.1:16100"]
    rig = inventory.get("10.0.5.7")
    assert (rig.kind, rig.source, rig.site, rig.rack, rig.port, rig.hostname) == (
        "rig", "configured", "north", "R1", 161, None)
    inventory.seen_rigs([RigSnapshot("rig-07", ip="10.0.5.7", port=161),
                         RigSnapshot("127.0.0.1", reachable=False, ip="127.0.0.1", port=16100)], at=300)
    assert (inventory.get("10.0.5.7").hostname, inventory.get("10.0.5.7").last_seen) == ("rig-07", 300)
    assert inventory.get("127.0.0.1:16100").last_seen is None  # it did not answer
    assert inventory.sync_rigs([sentry("127.0.0.1", 16100)]) == ["127.0.0.1:16100"]
    assert inventory.get("10.0.5.7").source == "discovered"  # kept, with its history, no longer read


def test_asic_discovery_never_takes_a_rig_for_a_miner(inventory: Inventory) -> None:
    # A rig running TeamRedMiner answers the cgminer API on 4028, and may be found by a subnet scan.
    inventory.sync_rigs([sentry("10.0.5.7")])
    [key] = inventory.upsert_discovered([snapshot("10.0.5.7", model="TeamRedMiner")], at=100)
    assert key != "10.0.5.7"
    rig = inventory.get("10.0.5.7")
    assert (rig.kind, rig.ip, rig.model) == ("rig", "10.0.5.7", None)
    inventory.sync_configured([Miner("10.0.5.7")])
    assert inventory.get("10.0.5.7").kind == "rig"


def test_every_device_has_a_number_kept_for_life(tmp_path: Path) -> None:
    with Inventory.open(tmp_path) as inventory:
        a, b = inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A"),
                                            snapshot("10.0.3.11", "AA:00:00:00:00:0B")], at=100)
        [rig] = inventory.sync_rigs([sentry("10.0.5.7")])
        inventory.upsert_discovered([snapshot("10.0.3.12", "AA:00:00:00:00:0A")], at=200)  # a moved
    with Inventory.open(tmp_path) as inventory:
        assert {d.key: d.number for d in inventory.devices()} == {a: 1, b: 2, rig: 3}


def test_an_inventory_of_schema_1_gains_kinds_and_numbers(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / INVENTORY_FILE)
    db.executescript("""
        CREATE TABLE devices (key TEXT PRIMARY KEY, ip TEXT, port INTEGER, driver TEXT, make TEXT, model TEXT,
            mac TEXT, serial TEXT, hostname TEXT, site TEXT NOT NULL, rack TEXT, location TEXT,
            tags TEXT NOT NULL DEFAULT '[]', first_seen REAL, last_seen REAL,
            source TEXT NOT NULL CHECK (source IN ('configured', 'discovered')));
        INSERT INTO devices (key, ip, site, source) VALUES ('AA:00:00:00:00:0B', '10.0.3.11', 'default', 'discovered');
        INSERT INTO devices (key, ip, site, source) VALUES ('AA:00:00:00:00:0A', '10.0.3.10', 'default', 'discovered');
        PRAGMA user_version = 1;
    """)
    db.close()
    with Inventory.open(tmp_path) as inventory:
        devices = {d.key: (d.kind, d.number) for d in inventory.devices()}
        assert devices == {"AA:00:00:00:00:0B": ("asic", 1), "AA:00:00:00:00:0A": ("asic", 2)}
        [key] = inventory.upsert_discovered([snapshot("10.0.3.12", "AA:00:00:00:00:0C")], at=100)
        assert inventory.get(key).number == 3


def test_an_inventory_of_schema_2_gains_who_placed_a_device_and_which_sentry_polls_it(tmp_path: Path) -> None:
    with Inventory.open(tmp_path) as inventory:
        [key] = inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A")], at=100)
    db = sqlite3.connect(tmp_path / INVENTORY_FILE)
    db.executescript("ALTER TABLE devices DROP COLUMN placed_by; ALTER TABLE devices DROP COLUMN sentry; "
                     "PRAGMA user_version = 2;")
    db.close()
    with Inventory.open(tmp_path) as inventory:
        assert inventory.get(key).placed_by is None
        inventory.place(key, "north", "R1", "1-1", by="ana")
        assert inventory.get(key).placed_by == "ana" and inventory.get(key).sentry is None
        inventory.upsert_discovered([snapshot("10.0.3.10", "AA:00:00:00:00:0A")], at=200, sentry="site-north")
        assert inventory.get(key).sentry == "site-north"
