"""The device inventory: every miner the commander knows, configured or discovered, with where it is.

Kept in ``inventory.sqlite3`` in the state directory, through the stdlib ``sqlite3`` in WAL mode,
rather than a JSON file replaced by atomic rename: the commander writes it from several jobs
(discovery, every poll's ``seen``) while the web reads it from another process, and WAL gives
each reader a consistent snapshot without blocking the writer, each write is one atomic
transaction that survives a crash, and updating one device's ``last_seen`` does not rewrite the
whole fleet. Writers take the write lock up front (BEGIN IMMEDIATE) and wait for each other
(busy timeout) instead of failing.

A device keeps its ``key`` for life; the storage files its history under it. A sighting is matched
to a known device by MAC, then serial, then address, so a miner that moved to another address
(DHCP) is the same device with a new ``ip``. A candidate whose MAC or serial contradicts the
sighting's is another device, even at the same address or with the same serial (some firmwares
report one placeholder serial for every unit). A device whose address another device took keeps
``ip = None`` until it is seen again, so nobody polls one address under two keys.

A damaged file (garbage pages, not a database; found when opened, by ``PRAGMA quick_check``, or by
any later query) is ``InventoryDamaged``: the commander, its owner, sets it aside with its journal
and starts a new inventory, which ``restore`` seeds from the store's latest rows. To SQLite an
empty file is an empty database, not a damaged one.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple, Self

from appliance.config import Config, Miner, Sentry
from appliance.damaged import StateFileError
from collectors import units
from collectors.model import RigSnapshot, sentry_address

INVENTORY_FILE = "inventory.sqlite3"
SCHEMA_VERSION = 3
BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another before giving up

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    key TEXT PRIMARY KEY,
    ip TEXT,
    port INTEGER,
    driver TEXT,
    make TEXT,
    model TEXT,
    mac TEXT,
    serial TEXT,
    hostname TEXT,
    site TEXT NOT NULL,
    rack TEXT,
    location TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    first_seen REAL,
    last_seen REAL,
    source TEXT NOT NULL CHECK (source IN ('configured', 'discovered')),
    kind TEXT NOT NULL DEFAULT 'asic' CHECK (kind IN ('asic', 'rig')),
    number INTEGER,
    placed_by TEXT,
    sentry TEXT
);
CREATE INDEX IF NOT EXISTS devices_mac ON devices (mac);
CREATE INDEX IF NOT EXISTS devices_serial ON devices (serial);
CREATE INDEX IF NOT EXISTS devices_ip ON devices (ip);
CREATE UNIQUE INDEX IF NOT EXISTS devices_number ON devices (number);
"""

# From schema 1: rigs join the inventory, and every device gets its number (in the order it came).
_MIGRATE_1_TO_2 = """
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'asic' CHECK (kind IN ('asic', 'rig'));
ALTER TABLE devices ADD COLUMN number INTEGER;
UPDATE devices SET number = (SELECT count(*) FROM devices AS earlier WHERE earlier.rowid <= devices.rowid)
"""
# From schema 2: who placed a discovered device through the web (its site then stays theirs), and
# the ASIC sentry that polls a device (the commander then only ingests it).
_MIGRATE_2_TO_3 = """
ALTER TABLE devices ADD COLUMN placed_by TEXT;
ALTER TABLE devices ADD COLUMN sentry TEXT
"""


class InventoryError(StateFileError):
    """The inventory file cannot be used; the message names it."""


class InventoryDamaged(InventoryError):
    """The inventory file is damaged: ``reason`` says how. Only the commander sets it aside."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the inventory {path} is damaged ({reason})")
        self.path, self.reason = path, reason


_DAMAGE = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


@contextmanager
def _damage_named(path: Path) -> Iterator[None]:
    """SQLite's errors for a damaged file as InventoryDamaged; the others as they are."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorcode & 0xFF in _DAMAGE:
            raise InventoryDamaged(path, str(exc)) from exc
        raise


@dataclass(frozen=True)
class Device:
    key: str  # stable for life: its MAC, else serial, else address when first known
    ip: str | None  # None: another device took its last address; unknown until it is seen again
    port: int | None  # None: the driver's own port
    driver: str | None
    make: str | None
    model: str | None
    mac: str | None  # "AA:BB:CC:DD:EE:FF"
    serial: str | None
    hostname: str | None
    site: str
    rack: str | None
    location: str | None
    tags: tuple[str, ...]
    first_seen: float | None  # Unix s; None: configured, never answered yet
    last_seen: float | None
    source: str  # "configured" (listed in commander.toml) or "discovered"
    kind: str  # "asic" (polled directly) or "rig" (read through its sentry, always configured)
    number: int  # 1, 2, ... in the order devices came; kept for life (MINERWATCH-MIB's mwMinerIndex)
    placed_by: str | None = None  # who set its site, rack and location through the web; None: discovery's
    sentry: str | None = None  # the ASIC sentry that polls it ([[asic_sentries]] name); None: the commander


# What discovery may set; site, rack, location and tags of a configured device are the config's.
_IDENTITY = ("port", "driver", "make", "model", "mac", "serial", "hostname")


@dataclass(frozen=True)
class _Sighting:
    ip: str
    port: int | None
    driver: str | None
    make: str | None
    model: str | None
    mac: str | None
    serial: str | None
    hostname: str | None


def _sighting(item: Any) -> _Sighting | None:
    """What an Identity or a MinerSnapshot says about a device; None when it says nothing (it failed)."""
    if getattr(item, "error", None) is not None or getattr(item, "reachable", True) is False:
        return None
    serial = (getattr(item, "serial", None) or "").strip() or None
    return _Sighting(item.ip, item.port, getattr(item, "driver", None), getattr(item, "make", None),
                     getattr(item, "model", None), units.mac(getattr(item, "mac", None)), serial,
                     getattr(item, "hostname", None))


# Device's fields in order, selected by name: a plain tuple per row builds a Device without the
# sqlite3.Row and dict per row (half of listing 10,000 devices, which every cycle does).
_COLUMNS = ", ".join(f.name for f in fields(Device))
_TAGS = [f.name for f in fields(Device)].index("tags")


def _device(row: tuple[Any, ...]) -> Device:
    tags = row[_TAGS]
    values = list(row)
    values[_TAGS] = () if tags == "[]" else tuple(json.loads(tags))  # most devices have none
    return Device(*values)


_DOTTED_QUAD = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", re.ASCII)


def _order(device: Device) -> tuple[str, int, str]:
    # inet_aton, not ipaddress: a tenth of the cost, which a 10,000-device list pays every cycle.
    ip = device.ip or ""
    try:  # the pattern first: inet_aton also takes "10.1" and "0x0a.1"
        address = int.from_bytes(socket.inet_aton(ip), "big") if _DOTTED_QUAD.fullmatch(ip) else 1 << 32
    except OSError:  # 300.1.1.1: a host name that looks like an address, sorted with the names
        address = 1 << 32
    return device.site, address, device.key


class Labels(NamedTuple):
    """What a reader that labels a device's figures needs of it."""

    site: str
    rack: str | None
    make: str | None
    model: str | None


def read_labels(state_dir: str | Path, keys: Iterable[str] | None = None) -> dict[str, Labels]:
    """Each device's labels by key (only ``keys``' when given), as a process that does not own the
    inventory reads them (the web): without building and sorting Devices (37 ms for 10,000
    devices, against 170 ms for ``devices()``). Errors as ``_read``."""
    sql, parameters = "SELECT key, site, rack, make, model FROM devices", []
    if keys is not None:
        parameters = list(keys)
        sql += f" WHERE key IN ({','.join('?' * len(parameters))})"
    return {key: Labels(*labels) for key, *labels in _read(state_dir, sql, parameters)}


class Place(NamedTuple):
    """Where a device stands and how people tagged it: for the farm map (``appliance.placement``
    says how it reads rack and location) and the web's lists and filters."""

    site: str
    rack: str | None
    location: str | None
    hostname: str | None
    ip: str | None
    source: str  # "configured": its place is the configuration's, which the web cannot change
    tags: tuple[str, ...]
    sentry: str | None  # the ASIC sentry that polls it; None: the commander itself


def read_places(state_dir: str | Path, keys: Iterable[str] | None = None) -> dict[str, Place]:
    """Each device's place by key (only ``keys``' when given), read like ``read_labels``: no Device
    built, so the whole farm's map, and its filter by rack or tag, stay cheap. Errors as ``_read``."""
    sql, parameters = "SELECT key, site, rack, location, hostname, ip, source, tags, sentry FROM devices", []
    if keys is not None:
        parameters = list(keys)
        sql += f" WHERE key IN ({','.join('?' * len(parameters))})"
    return {key: Place(site, rack, location, hostname, ip, source, () if tags == "[]" else tuple(json.loads(tags)),
                       sentry) for key, site, rack, location, hostname, ip, source, tags, sentry
            in _read(state_dir, sql, parameters)}


def read_device(state_dir: str | Path, key: str) -> Device | None:
    """One device, read like ``read_devices``; None when the inventory does not know the key."""
    rows = _read(state_dir, f"SELECT {_COLUMNS} FROM devices WHERE key = ?", [key])
    return _device(rows[0]) if rows else None


def read_devices(state_dir: str | Path) -> list[Device]:
    """Every device in the order of its number, as a process that does not own the inventory reads
    it (``minerwatch devices``). Errors as ``_read``."""
    return list(map(_device, _read(state_dir, f"SELECT {_COLUMNS} FROM devices ORDER BY number")))


def _read(state_dir: str | Path, sql: str, parameters: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` over a read-only connection: a reader in another process (or another
    user's) never creates, migrates or write-locks the commander's file. InventoryError
    (InventoryDamaged for a damaged file) when it cannot be read."""
    path = Path(state_dir) / INVENTORY_FILE
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise InventoryError(f"cannot open the inventory {path}: {exc}") from exc
    try:
        with _damage_named(path):
            return db.execute(sql, list(parameters)).fetchall()
    except sqlite3.Error as exc:
        raise InventoryError(f"cannot read the inventory {path}: {exc}") from exc
    finally:
        db.close()


class Inventory:
    """The inventory in one state directory; open it with ``Inventory.open`` and close it when done."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._lock = threading.Lock()  # one connection, shared by the scheduler's threads

    @classmethod
    def open(cls, state_dir: str | Path) -> Inventory:
        """Open (creating if needed) the inventory in ``state_dir``. Safe from several processes."""
        path = Path(state_dir) / INVENTORY_FILE
        if path.exists():
            cls._check(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise InventoryError(f"cannot open the inventory {path}: {exc}") from exc
        db.row_factory = sqlite3.Row
        inventory = cls(db, path)
        try:
            with _damage_named(path):
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable at each checkpoint, never corrupt
            with inventory._write():
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise InventoryError(f"the inventory {path} was written by a newer minerwatch "
                                         f"(schema {version}, this one knows {SCHEMA_VERSION})")
                if version == 1:
                    for statement in filter(str.strip, _MIGRATE_1_TO_2.split(";")):
                        db.execute(statement)
                if version in (1, 2):
                    for statement in filter(str.strip, _MIGRATE_2_TO_3.split(";")):
                        db.execute(statement)
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            db.close()
            raise InventoryError(f"cannot use the inventory {path}: {exc}") from exc
        except InventoryError:
            db.close()
            raise
        return inventory

    @staticmethod
    def _check(path: Path) -> None:
        """InventoryDamaged unless SQLite's quick check finds every page sound (a few ms for 10,000
        devices; a damaged page would otherwise surface in some query, some cycle). Read-only: a
        read-write connection, closing, folds the journal into the file and deletes it, and a damaged
        file is to be set aside as it is, with its journal."""
        try:
            open(path, "rb").close()
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        except OSError as exc:
            raise InventoryError.unreadable(path, exc) from exc
        try:
            with _damage_named(path):
                problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        except sqlite3.Error as exc:
            raise InventoryError(f"cannot use the inventory {path}: {exc}") from exc
        finally:
            db.close()
        if problems != ["ok"]:
            raise InventoryDamaged(path, problems[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _damage_named(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _tuples(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, _damage_named(self.path):
            cursor = self._db.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, parameters).fetchall()

    def devices(self) -> list[Device]:
        """Every device, by site then address."""
        return sorted(map(_device, self._tuples(f"SELECT {_COLUMNS} FROM devices")), key=_order)

    def get(self, key: str) -> Device | None:
        rows = self._tuples(f"SELECT {_COLUMNS} FROM devices WHERE key = ?", (key,))
        return _device(rows[0]) if rows else None

    def seen(self, key: str, at: float) -> None:
        """Record that the device answered at Unix time ``at`` (a successful poll)."""
        with self._write() as db:
            db.execute("UPDATE devices SET first_seen = coalesce(first_seen, :at), "
                       "last_seen = max(coalesce(last_seen, :at), :at) WHERE key = :key", {"at": at, "key": key})

    def sync_configured(self, miners: Iterable[Miner]) -> list[str]:
        """Make the configured miners match the configuration; returns their keys, in order.

        A configured miner is the device at its address (the one already configured there, else
        whichever was seen there last), else a new device. Its site, rack, location, tags, and
        driver and port when given, come from the configuration. A device no longer listed stays,
        as discovered.
        """
        keys = []
        with self._write() as db:
            for miner in miners:
                row = db.execute("SELECT key FROM devices WHERE ip = ? AND kind = 'asic' "
                                 "ORDER BY source = 'configured' DESC, last_seen DESC", (miner.ip,)).fetchone()
                values = {"ip": miner.ip, "site": miner.site, "rack": miner.rack, "location": miner.location,
                          "tags": json.dumps(list(miner.tags)), "source": "configured"}
                values.update({k: v for k, v in (("port", miner.port), ("driver", miner.driver)) if v is not None})
                if row:
                    key = row["key"]
                    self._update(db, key, values)
                else:
                    key = self._insert(db, self._new_key(db, None, None, miner.ip), values)
                keys.append(key)
            self._unlist(db, "asic", keys)
        return keys

    def sync_rigs(self, sentries: Iterable[Sentry]) -> list[str]:
        """Make the rigs match the configured sentries; returns their keys, in order.

        A rig's key is its sentry's address (``RigSnapshot.address``), which is also how the store
        and the alerts know it; site, rack, location and tags are the configuration's. A rig no
        longer configured stays, as discovered, with its number, and is no longer read."""
        keys = []
        with self._write() as db:
            for sentry in sentries:
                key = sentry_address(sentry.host, sentry.port)
                values = {"ip": sentry.host, "port": sentry.port,
                          "site": sentry.site, "rack": sentry.rack, "location": sentry.location,
                          "tags": json.dumps(list(sentry.tags)), "source": "configured", "kind": "rig"}
                if db.execute("SELECT 1 FROM devices WHERE key = ?", (key,)).fetchone():
                    self._update(db, key, values)
                else:
                    self._insert(db, key, values)
                keys.append(key)
            self._unlist(db, "rig", keys)
        return keys

    def seen_rigs(self, rigs: Iterable[RigSnapshot], at: float) -> None:
        """Record each rig whose sentry answered at Unix time ``at``, with the hostname it reports."""
        with self._write() as db:
            for rig in rigs:
                if rig.reachable:
                    db.execute("UPDATE devices SET hostname = :hostname, first_seen = coalesce(first_seen, :at), "
                               "last_seen = max(coalesce(last_seen, :at), :at) WHERE key = :key AND kind = 'rig'",
                               {"hostname": rig.hostname, "at": at, "key": rig.address})

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Seed a new inventory with the miners the store knows: ``rows`` are the store's latest
        rows (``read_latest(state_dir, "miners").to_pylist()``), each added as discovered under its
        device key, so its history goes on under the same key. A key already here is left as it is;
        an address goes to the newest row that has it. Returns how many were added. Driver, rack,
        location and tags come back with the configuration and the next discovery; numbers are new."""
        added = 0
        with self._write() as db:
            for row in sorted(rows, key=lambda row: row["time"], reverse=True):
                if db.execute("SELECT 1 FROM devices WHERE key = ?", (row["device"],)).fetchone():
                    continue
                taken = db.execute("SELECT 1 FROM devices WHERE ip = ? AND kind = 'asic'", (row["ip"],)).fetchone()
                self._insert(db, row["device"], {
                    "ip": None if taken else row["ip"], "port": row["port"], "make": row["make"], "model": row["model"],
                    "mac": units.mac(row["mac"]), "serial": (row["serial"] or "").strip() or None,
                    "hostname": row["hostname"], "site": row["site"] or Config.default_site, "source": "discovered"})
                added += 1
        return added

    def place(self, key: str, site: str, rack: str | None, location: str | None, by: str) -> None:
        """A person's word on where a discovered device stands; discovery no longer moves it."""
        with self._write() as db:
            self._update(db, key, {"site": site, "rack": rack, "location": location, "placed_by": by})

    def retag(self, keys: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> int:
        """Add and remove tags on the devices ``keys``, each tag once, in the order first given;
        returns how many devices changed."""
        add, remove, changed = list(add), set(remove), 0
        with self._write() as db:
            for key in keys:
                row = db.execute("SELECT tags FROM devices WHERE key = ?", (key,)).fetchone()
                if row is None:
                    continue
                before = json.loads(row["tags"])
                after = list(dict.fromkeys(t for t in [*before, *add] if t not in remove))
                if after != before:
                    self._update(db, key, {"tags": json.dumps(after)})
                    changed += 1
        return changed

    @staticmethod
    def _unlist(db: sqlite3.Connection, kind: str, keys: list[str]) -> None:
        """Devices of ``kind`` configured before but not now stay, as discovered."""
        db.execute(f"UPDATE devices SET source = 'discovered' WHERE source = 'configured' AND kind = ? "
                   f"AND key NOT IN ({','.join('?' * len(keys))})", [kind, *keys])

    def upsert_discovered(self, items: Iterable[Any], at: float | None = None,
                          site_for: Callable[[str], str] | None = None, sentry: str | None = None) -> list[str | None]:
        """Record what discovery or a poll found (``Identity`` or ``MinerSnapshot`` objects).

        Returns each item's device key, in order; None for an item that found nothing (an address
        that did not answer, or answered as nothing we know). ``site_for`` (``Config.site_for``)
        gives a discovered device's site from its address; a configured device keeps the
        configuration's site, rack, location and tags. All items are one transaction, so two miners
        that swapped addresses are matched by their MACs, not crossed. ``sentry``: the ASIC sentry
        that polled them (None: the commander itself).
        """
        at = time.time() if at is None else at
        site_for = site_for or (lambda ip: Config.default_site)
        keys: list[str | None] = []
        claimed: set[str] = set()
        with self._write() as db:
            for item in items:
                sighting = _sighting(item)
                if sighting is None:
                    keys.append(None)
                    continue
                row = self._match(db, sighting, claimed)
                values: dict[str, Any] = {"ip": sighting.ip, "last_seen": at, "sentry": sentry}
                values.update({name: getattr(sighting, name) for name in _IDENTITY
                               if getattr(sighting, name) is not None})
                if row is None:
                    key = self._new_key(db, sighting.mac, sighting.serial, sighting.ip)
                    values.update(site=site_for(sighting.ip), first_seen=at, source="discovered")
                    self._insert(db, key, values)
                else:
                    key = row["key"]
                    values["first_seen"] = row["first_seen"] if row["first_seen"] is not None else at
                    values["last_seen"] = max(row["last_seen"] or at, at)
                    if row["source"] == "discovered" and row["placed_by"] is None:
                        values["site"] = site_for(sighting.ip)
                    self._update(db, key, values)
                db.execute("UPDATE devices SET ip = NULL WHERE ip = ? AND key != ? AND kind = 'asic'",
                           (sighting.ip, key))
                claimed.add(key)
                keys.append(key)
        return keys

    def add_unidentified(self, ips: Iterable[str], at: float | None = None,
                         site_for: Callable[[str], str] | None = None) -> list[str]:
        """Add, as discovered and unidentified (no driver, never seen), each address where a miner
        port answered but nothing could be identified (it hung, or answered garbage); an address a
        device already has is left to that device. Returns the keys added.

        A miner broken while discovery runs is still a miner: the poll cycle identifies it again
        each time (on every miner port: its port stays unknown) and alerts on it as offline until
        it answers, when it becomes the device it says it is, under the key it got here."""
        at = time.time() if at is None else at
        site_for = site_for or (lambda ip: Config.default_site)
        added = []
        with self._write() as db:
            for ip in ips:
                if db.execute("SELECT 1 FROM devices WHERE ip = ? AND kind = 'asic'", (ip,)).fetchone():
                    continue
                added.append(self._insert(db, self._new_key(db, None, None, ip),
                                          {"ip": ip, "site": site_for(ip), "first_seen": at, "source": "discovered"}))
        return added

    @staticmethod
    def _match(db: sqlite3.Connection, sighting: _Sighting, claimed: set[str]) -> sqlite3.Row | None:
        """The known device this sighting is: by MAC, then serial, then address, never contradicting."""
        for column in ("mac", "serial", "ip"):
            value = getattr(sighting, column)
            if value is None:
                continue
            for row in db.execute(f"SELECT * FROM devices WHERE kind = 'asic' AND {column} = ? "
                                  "ORDER BY last_seen DESC", (value,)):
                if row["key"] in claimed:
                    continue
                if all(row[other] is None or getattr(sighting, other) is None or row[other] == getattr(sighting, other)
                       for other in ("mac", "serial")):
                    return row
        return None

    @staticmethod
    def _new_key(db: sqlite3.Connection, mac: str | None, serial: str | None, ip: str) -> str:
        """The best identity known at first sight, so both commanders of an HA pair, seeing the same
        farm, give a device the same key; the store files its rows under it."""
        base = mac or serial or ip
        key, n = base, 1
        while db.execute("SELECT 1 FROM devices WHERE key = ?", (key,)).fetchone():
            n += 1
            key = f"{base}-{n}"
        return key

    @staticmethod
    def _insert(db: sqlite3.Connection, key: str, values: dict[str, Any]) -> str:
        # Devices are never deleted (one no longer listed stays, as discovered), so max + 1 is never
        # a number another device had.
        number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM devices").fetchone()[0]
        values = {"key": key, "number": number, **values}
        db.execute(f"INSERT INTO devices ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                   list(values.values()))
        return key

    @staticmethod
    def _update(db: sqlite3.Connection, key: str, values: dict[str, Any]) -> None:
        db.execute(f"UPDATE devices SET {', '.join(f'{name} = ?' for name in values)} WHERE key = ?",
                   [*values.values(), key])
