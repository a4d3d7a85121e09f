"""What a driver is: data. The endpoints one poll fetches, ``Field`` rows for the miner's values,
``Rows`` tables for its boards, fans and pools, its ``Login`` where the firmware wants one, and the
signature identification knows it by.

A driver module builds one ``Driver`` (or one per firmware variant). It never opens a socket:
``collectors.poll`` fetches every endpoint once per poll (all RPC commands of a driver go out as
one multi-command) and then ``Driver.parse`` maps the replies to a ``MinerSnapshot``. ``parse`` is a
pure function of the decoded replies, so every driver is tested offline on captured replies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from collectors import limits, units
from collectors.asic.models import lookup_model
from collectors.model import (BOARD_DEAD, BOARD_DISABLED, BOARD_MISSING, BOARD_OK, Board, ErrorCode, Fan,
                              MinerSnapshot, Pool)

if TYPE_CHECKING:
    from collectors.credentials import Credential
    from collectors.transport.http import WebPage

T = TypeVar("T")

log = logging.getLogger(__name__)

Replies = Mapping[str, Any]  # endpoint name -> decoded reply


@dataclass(frozen=True)
class Rpc:
    """A cgminer-style command on the RPC port; the reply is stored under ``command``."""

    command: str
    parameter: str | None = None

    @property
    def name(self) -> str:
        return self.command


@dataclass(frozen=True)
class Login:
    """How a firmware logs in and carries its session, as its driver declares it: the login
    request, where the token is in the reply, and how every later request sends it back."""

    path: str  # the login request's path
    body: Callable[[Credential], Mapping[str, str]]  # the request's fields, from the credential
    send_as: str = "json"  # "json" body, "form" body, or "query" string
    method: str = "POST"
    token_at: Callable[[Any], Any] | None = None  # where the token is in the decoded reply
    header: str = "Authorization"  # the header that carries it ...
    header_format: str = "Bearer {token}"  # ... and how
    cookie: bool = False  # the session is the login reply's cookie, not a token in its body
    # The firmware's way of saying "log in again" besides 401/403: (status, decoded reply) -> bool
    expired: Callable[[int, Any], bool] | None = None


@dataclass(frozen=True)
class Http:
    """An HTTP request on the firmware's web port; the decoded JSON body is stored under ``name``."""

    name: str
    path: str
    method: str = "GET"
    json: Any = None  # request body, sent as JSON
    port: int | None = None  # None: the web port of the poll (80 unless configured)
    auth: Login | str | None = None  # None, "digest", or the driver's Login


@dataclass(frozen=True)
class Btminer:
    """A command of Whatsminer's newer API (TCP 4433, length-framed JSON).

    One command answers differently per parameter (``get.miner.status`` with "summary" or
    "pools"), so the reply is stored under "command.parameter" when there is one.
    """

    command: str
    parameter: Any = None

    @property
    def name(self) -> str:
        return self.command if self.parameter is None else f"{self.command}.{self.parameter}"


@dataclass(frozen=True)
class Ssh:
    """A fixed command run over SSH where nothing else serves; stdout is decoded as JSON."""

    name: str
    command: str


Endpoint = Rpc | Http | Btminer | Ssh


@dataclass(frozen=True)
class Field:
    """One row of the table: ``key`` of the snapshot = ``convert(select(replies[endpoint]))``."""

    key: str
    endpoint: str
    select: Callable[[Any], Any]
    convert: Callable[[Any], Any] = units.number


@dataclass(frozen=True)
class From:
    """A value read from a whole reply, the same for every item of a list: the chips a model's
    boards have (ePIC's capabilities), the unit a firmware gives every hashrate in (VNish's info).
    ``select`` gets None when that reply did not come."""

    endpoint: str
    select: Callable[[Any], Any]


@dataclass(frozen=True)
class Column:
    """One attribute of every item of a list: ``key`` = ``convert(select(record))``, times ``scale``."""

    key: str  # the Board, Fan or Pool attribute
    select: str | Callable[[Any], Any] | From  # a key of the record, a selector of it, or a reply's value
    convert: Callable[[Any], Any] = units.number
    scale: From | None = None  # a factor the replies give apart from the records (a hashrate's unit)


@dataclass(frozen=True)
class Rows:
    """A list of the snapshot (boards, fans, pools) as a table: one item per record of one reply.

    Where a firmware spreads one board over several replies (Braiins OS: ``devs``, ``devdetails``,
    ``temps``), the list is a tuple of Rows joined by slot, each attribute from the first that
    gives it. An irregular layout (bmminer's flat ``chain_rateN`` keys) has a named ``records``
    function that turns it into records, which the table then maps like any other.
    """

    endpoint: str
    records: Callable[[Any], Any]  # the reply's records in the firmware's order (a list; else none)
    columns: tuple[Column, ...]
    # The record's key (or a selector of it) that numbers its slot; None: its place in the list.
    index: str | Callable[[Any], Any] | None = None
    # The number the firmware gives its first slot: 1 where it counts from 1; a function of the
    # model where the model decides (bmminer and BOSminer number an S9's chains 6, 7, 8).
    first: int | Callable[[str | None], int] = 0
    keep: Callable[[Any], bool] | None = None  # which records are items (an unused pool slot is not)


Table = Rows | tuple[Rows, ...]


def at(*path: str | int) -> Callable[[Any], Any]:
    """A selector that walks keys and list indexes, and gives None wherever the path breaks."""
    return lambda value: units.dig(value, *path)


def section(reply: Any, name: str, index: int = 0) -> dict:
    """The ``index``-th record of a cgminer reply section ("SUMMARY", "STATS"...), or {}."""
    records = reply.get(name) if isinstance(reply, dict) else None
    if isinstance(records, dict):
        records = [records]
    if isinstance(records, list) and -len(records) <= index < len(records) and isinstance(records[index], dict):
        return records[index]
    return {}


def records(reply: Any, name: str) -> list[dict]:
    """The records of a cgminer reply section (``limits.MAX_RECORDS`` at most), skipping anything
    that is not a record."""
    found = reply.get(name) if isinstance(reply, dict) else None
    return rows([found] if isinstance(found, dict) else found)


def rows(value: Any) -> list[dict]:
    """The objects of a list the device sent (``limits.MAX_RECORDS`` at most); [] for a non-list."""
    return first(v for v in value if isinstance(v, dict)) if isinstance(value, list) else []


def records_in(name: str) -> Callable[[Any], list[dict]]:
    """The ``records`` of a Rows: those of one section of a cgminer reply ("DEVS", "POOLS")."""
    return lambda reply: records(reply, name)


def words(table: Mapping[str, str]) -> Callable[[Any], str | None]:
    """A conversion from a firmware's words to the snapshot's ("Alive" -> "ok"), by their lower
    case; a word the table does not have is kept, lower-cased."""

    def convert(value: Any) -> str | None:
        word = units.text(value)
        return None if word is None else table.get(word.lower(), word.lower())

    return convert


# cgminer's words for a device's state (DEVS' "Status"), which its forks keep, as the snapshot's:
# "Sick" and "Initialising" say something none of them does, and stay as they are.
BOARD_WORDS = {"alive": BOARD_OK, "dead": BOARD_DEAD, "nostart": BOARD_DEAD, "disabled": BOARD_DISABLED}


def first(items: Iterable[T], most: int = limits.MAX_RECORDS) -> list[T]:
    """The first ``most`` of the items of a list the device sent, however long it is."""
    return list(islice(items, most))


def most(model: str | None, part: str, cap: int) -> int:
    """How many boards or fans (``part``) parsing may build for ``model``: what the model facts
    say it has, and never more than ``cap``."""
    spec = lookup_model(model)
    have = getattr(spec, part) if spec is not None else None
    return min(have, cap) if have else cap


@dataclass(frozen=True)
class Driver:
    name: str  # registry key: "antminer", "braiins", ...
    make: str | None  # the maker; None when the model tells (generic and multi-make firmwares)
    firmware: str  # "stock", "Braiins OS", "LuxOS", "VNish", ...
    endpoints: tuple[Endpoint, ...]
    fields: tuple[Field, ...]
    boards: Table | None = None
    fans: Table | None = None
    pools: Table | None = None
    errors: Callable[[Replies], list[ErrorCode]] | None = None
    algorithm: str | None = "SHA256"  # what the family mines unless a field or the model says else
    port: int = 4028  # the RPC (or main API) port
    rpc_extra: Mapping[str, Any] | None = None  # extra top-level request keys ({"new_api": true})
    identity: tuple[Endpoint, ...] = ()  # fetched once per device (model, MAC, serial), not every poll
    required: tuple[str, ...] = ()  # endpoints without which the poll has failed
    # How identification (collectors/identify.py) knows the firmware, at the step that finds it:
    rpc_signature: Callable[[dict], bool] | None = None  # the RPC's version (then devdetails) replies
    btminer_signature: Callable[[Any], bool] | None = None  # 4433's get.device.info reply
    web_signature: Callable[[WebPage], bool] | None = None  # the page at web_probe on the driver's web port
    web_probe: str = "/"

    def parse(self, replies: Replies, ip: str, port: int | None = None) -> MinerSnapshot:
        """Map decoded replies to a snapshot. A bad field drops only itself, and is named in
        ``dropped_fields``; every value is then brought within its bounds (``limits.enforce``)."""
        snap = MinerSnapshot(ip=ip, port=self.port if port is None else port, make=self.make,
                             firmware=self.firmware, algorithm=self.algorithm, reachable=True)
        dropped = snap.dropped_fields
        for row in self.fields:
            reply = replies.get(row.endpoint)
            if reply is None:
                continue
            try:
                value = row.convert(row.select(reply))
            except Exception as exc:  # whatever the device's value made the row raise (OverflowError...)
                log.debug("%s: %s dropped field %s: %r", ip, self.name, row.key, exc)
                dropped.append(row.key)
                continue
            if value is not None:
                setattr(snap, row.key, value)
        tables = (("boards", Board, self.boards), ("fans", Fan, self.fans), ("pools", Pool, self.pools))
        builds = [(key, partial(_items, table, cls, replies, snap.model, key, dropped))
                  for key, cls, table in tables if table is not None]
        if self.errors is not None:
            builds.append(("errors", partial(self.errors, replies)))
        reported = set()
        for key, build in builds:
            try:
                found = build()
            except Exception as exc:
                log.debug("%s: %s dropped %s: %r", ip, self.name, key, exc)
                dropped.append(key)
                continue
            if found is not None:
                setattr(snap, key, found)
                reported.add(key)
        limits.enforce(snap)
        complete(snap, boards_reported="boards" in reported)
        snap.dropped_fields = sorted(set(dropped))
        return snap


def _items(table: Table, cls: type[T], replies: Replies, model: str | None, name: str,
           dropped: list[str]) -> list[T] | None:
    """The items ``table`` reads from ``replies``, in slot order; None when none of its replies
    came (the list is unknown, not empty). A value that cannot be read drops only itself, and a
    second record for a slot already filled is left out; either is named in ``dropped``."""
    items: dict[int, T] = {}
    answered = False
    for rows_ in table if isinstance(table, tuple) else (table,):
        reply = replies.get(rows_.endpoint)
        if reply is None:
            continue
        answered = True
        found = rows_.records(reply)
        base = rows_.first(model) if callable(rows_.first) else rows_.first
        scales = {c.key: _given(c.scale, replies) for c in rows_.columns if c.scale is not None}
        given = {c.key: _given(c.select, replies) for c in rows_.columns if isinstance(c.select, From)}
        filled: set[int] = set()
        for position, record in enumerate(first(found) if isinstance(found, list) else ()):
            if rows_.keep is not None and not rows_.keep(record):
                continue
            number = units.integer(_select(rows_.index, record)) if rows_.index is not None else None
            index = position if number is None else number - base
            if index in filled:
                dropped.append(name)
                continue
            filled.add(index)
            item = items.setdefault(index, cls(index=index))
            for column in rows_.columns:
                if getattr(item, column.key) is not None:
                    continue  # an earlier table of the list gave it
                try:
                    value = _cell(column, record, given, scales)
                except Exception:  # whatever the device's value made the conversion raise
                    dropped.append(f"{name}.{column.key}")
                    continue
                setattr(item, column.key, value)
    return [items[index] for index in sorted(items)] if answered else None


def _given(source: From, replies: Replies) -> Any:
    return source.select(replies.get(source.endpoint))


def _cell(column: Column, record: Any, given: Mapping[str, Any], scales: Mapping[str, Any]) -> Any:
    raw = given[column.key] if isinstance(column.select, From) else _select(column.select, record)
    value = column.convert(raw)
    if value is None or column.key not in scales:
        return value
    scale = units.number(scales[column.key])
    return None if scale is None else value * scale


def _select(select: str | Callable[[Any], Any], record: Any) -> Any:
    if isinstance(select, str):
        return record.get(select) if isinstance(record, dict) else None
    return select(record)


def complete(snap: MinerSnapshot, boards_reported: bool) -> None:
    """Fill what follows from the rest: model facts, every slot of the model, totals, maxima, efficiency.

    Runs on a snapshot within its bounds; a total of values within bounds may still not be (16
    boards at the largest hashrate), so what is derived is checked too. ``boards_reported``: the
    reply the boards come from came, so a slot it does not list is a board missing, not unknown."""
    spec = lookup_model(snap.model)
    if spec is not None:
        snap.make = snap.make or spec.make
        snap.algorithm = spec.algorithm or snap.algorithm
        if snap.hashrate_nominal_hs is None:
            snap.hashrate_nominal_hs = spec.hashrate_nominal_hs
        if boards_reported:
            snap.boards = _slots(snap.boards, spec.boards)
        for board in snap.boards:
            if board.chips_expected is None:
                board.chips_expected = spec.chips_per_board
    if snap.boards:
        if snap.hashrate_hs is None:
            _total(snap, "hashrate_hs", snap.boards)
        if snap.hw_errors is None:
            _total(snap, "hw_errors", snap.boards)
        for board in snap.boards:
            if board.chips == 0 and board.status in (None, BOARD_OK):
                board.status = BOARD_DEAD  # no chip answers: it does not hash, whatever else it says
            elif board.status is None and board.chips is not None:
                board.status = BOARD_OK
    temps = [t for b in snap.boards for t in (b.temp_board_c, b.temp_chip_c) if t is not None]
    if temps and (snap.temp_max_c is None or max(temps) > snap.temp_max_c):
        snap.temp_max_c = max(temps)
    if snap.pools:
        if snap.accepted is None:
            _total(snap, "accepted", snap.pools)
        if snap.rejected is None:
            _total(snap, "rejected", snap.pools)
    if snap.efficiency_jth is None:
        snap.efficiency_jth = units.efficiency_jth(snap.power_w, snap.hashrate_hs)


def _slots(boards: list[Board], count: int) -> list[Board]:
    """A board at each of the model's ``count`` slots: the firmware's, or one missing. Past the
    model's last slot, only a board that hashes or has chips is one: the rest are the empty
    connectors some firmwares list with zeros (bmminer lists 16)."""
    listed = {board.index: board for board in boards}
    return [listed.get(index) or Board(index=index, status=BOARD_MISSING) for index in range(count)] + [
        board for board in boards if board.index >= count and (board.chips or board.hashrate_hs)]


def _total(snap: MinerSnapshot, key: str, parts: list[Board] | list[Pool]) -> None:
    """``snap.key`` as the sum of its parts' ``key``, where any part has one and the sum is within bounds."""
    values = [value for part in parts if (value := getattr(part, key)) is not None]
    if values:
        setattr(snap, key, limits.check(key, sum(values)))
        if getattr(snap, key) is None:
            snap.dropped_fields.append(key)
