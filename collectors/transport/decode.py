"""Turn a miner's reply into a Python value, tolerating the defects real firmwares send.

Valid JSON costs one strict parse and nothing else. Only when that fails are the repairs
below applied, each a named function for one defect proven by a capture in
``shared/fixtures/asic`` (see SOURCES.md there) or reported by pyasic's maintainers.
A repair never invents data: a reply cut short is an error, not a guess.

The parser finds the defects: its error names what it expected and where it stopped, so
a repair is only tried where the parser stopped, one at a time, parsing again after each
(parsing stops at the first error, so a reply with one defect costs about two parses).
Text the parser has read as a valid string is never touched, since it never stops inside
one; the string repairs fix the rest of the one string the parser stopped in.

Parsing again is the cost of a repair, and the device chooses how many defects it sends: the
repairs of one reply may parse ``REPAIR_BUDGET`` characters in all, so that no reply holds the
event loop for more than a few hundredths of a second. A small reply gets as many repairs as
it can use, a megabyte a handful; a reply that needs more is refused in one sentence.

Bare ``nan``/``inf`` become ``None`` (and so do JSON's ``NaN``/``Infinity``, on both
paths): the snapshot carries ``None`` for "the device did not say", never a NaN that
would poison sums, maxima and Parquet statistics.

Some firmwares send a section as an object where others send a one-element list
(``"STATS":{...}`` against ``"STATS":[{...}]``). That is not a syntax defect and stays as
sent; the drivers' selectors (``collectors.asic.driver.section`` and ``records``) accept both.
"""

from __future__ import annotations

import json
import logging
import operator
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from collectors.errors import ProtocolError

log = logging.getLogger(__name__)

# A repair takes the text and the position where the parser stopped, and returns the
# repaired text, or None when its defect is not the one there.
Repair = Callable[[str, int], str | None]

# JSON's own NaN/Infinity are accepted by json.loads; map them to None like the bare ones.
_DECODER = json.JSONDecoder(parse_constant=lambda _name: None)
_TRAILING = b"\x00 \t\r\n"
_SPACE = " \t\r\n"
_SPACES = re.compile(r"[ \t\r\n]*")

# Characters the repairs of one reply may parse again, all repairs together: about 20 ms of
# CPU (the parser reads some 400 MB/s here). Real replies need a handful of repairs (the most
# in the captures is two, in 10 KB); 2,100 ``}{`` in 940 KB used to cost 4 s of the event loop.
REPAIR_BUDGET = 8_000_000
# A bare NaN/Inf word is a dozen characters ("-nan(ind)"); a repair looks no further back.
_LONGEST_BARE_WORD = 64


def decode(raw: bytes, source: str) -> Any:
    """The value of a reply from ``source`` ("10.0.3.9:4028"), or ProtocolError."""
    raw = raw.rstrip(_TRAILING)
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except json.JSONDecodeError as error:
        # The repairs start where the parser stopped, without parsing again; but after
        # stray bytes the value must be read again, as decode does not return it.
        text, complaint = error.doc, None if error.msg == "Extra data" else error
    except (ValueError, RecursionError):  # invalid UTF-8, or too deep or too long a number
        text, complaint = raw.decode("utf-8", errors="replace"), None
    if not raw.strip():
        raise ProtocolError(f"{source} sent an empty reply")
    return _repaired(text, complaint, source)


def _repaired(text: str, complaint: json.JSONDecodeError | None, source: str) -> Any:
    """The value of ``text`` repaired, from the parser's ``complaint`` (None: parse it first)."""
    start = _next(text, 0)
    applied: list[str] = []
    # A defect spans two characters or more (``}{``, ``,]``; a string takes three repairs
    # at most), so this is enough for any reply the repairs can read.
    most = len(text) // 2 + 8
    spent = 0
    while True:
        if complaint is not None:
            repaired = _repair(complaint, applied) if len(applied) < most else None
            if repaired is None:
                raise _unreadable(text, source, "answered but not as a miner") from complaint
            text = repaired
        spent += len(text)
        if spent > REPAIR_BUDGET and applied:
            raise ProtocolError(f"{source} sent a reply with too many defects to repair "
                                f"({len(applied)} repaired in {len(text) // 1024:,} KB)") from complaint
        try:
            # raw_decode keeps the value when stray bytes follow it (decode would drop it).
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as error:
            complaint = error
            continue
        except RecursionError as exc:  # whether it was also cut short, it cannot be read: say why
            raise ProtocolError(f"{source} sent a reply nested too deeply to read") from exc
        except ValueError as exc:  # an integer longer than int() accepts
            raise _unreadable(text, source, "answered but not as a miner") from exc
        if end < len(text):
            if not stray_bytes_after_value(text, start, end):
                raise _unreadable(text, source, "answered but not as a miner")
            applied.append(stray_bytes_after_value.__name__)
        log.debug("%s: reply repaired (%s)", source,
                  ", ".join(dict.fromkeys(applied)) or "invalid UTF-8 replaced")
        return value


def _repair(error: json.JSONDecodeError, applied: list[str]) -> str | None:
    """The text with the defect where the parser stopped repaired, naming the repair in
    ``applied``; None if no repair knows that defect."""
    for repair in REPAIRS.get(error.msg, ()):
        repaired = repair(error.doc, error.pos)
        if repaired is not None:
            applied.append(repair.__name__)
            return repaired
    return None


# A closed string; once they are gone, a quote left opens a string that runs to the end of the
# reply (no closed string can start inside it: each of its quotes is escaped). The brackets are
# read at C speed, never one by one in Python: a megabyte of them is a reply a device can send.
_CLOSED_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^{}\[\]]++")
_DEPTH = {"{": 1, "[": 1, "}": -1, "]": -1}


def _outside_strings(text: str) -> tuple[str, bool]:
    """``text`` without its strings, and whether it ends inside one."""
    bare = _CLOSED_STRING.sub("", text)
    quote = bare.find('"')
    return (bare, False) if quote < 0 else (bare[:quote], True)


def _unreadable(text: str, source: str, reason: str) -> ProtocolError:
    """The error for a reply no repair can read: cut short (it ended inside a string, or
    before its first object or array closed), or else ``reason``."""
    bare, in_string = _outside_strings(text)
    if text.startswith(("{", "["), _next(text, 0)):
        try:  # where the depth of its brackets first comes back to 0: the first container closed
            operator.indexOf(accumulate(map(_DEPTH.__getitem__, _NOT_BRACKETS.sub("", bare))), 0)
        except ValueError:
            return ProtocolError(f"{source} sent a truncated reply")
        return ProtocolError(f"{source} {reason}")
    return ProtocolError(f"{source} sent a truncated reply" if in_string else f"{source} {reason}")


def _next(text: str, pos: int) -> int:
    """Where the first non-space character at or after ``pos`` is (the length if none)."""
    return _SPACES.match(text, pos).end()


def _previous(text: str, pos: int) -> int:
    """Where the last non-space character before ``pos`` is (-1 if none)."""
    return len(text[:pos].rstrip(_SPACE)) - 1


def _char(text: str, index: int) -> str:
    """The character at ``index`` ("" outside the text)."""
    return text[index] if 0 <= index < len(text) else ""


# --- the repairs, and the parser's complaints each can answer


def stray_bytes_after_value(text: str, start: int, end: int) -> bool:
    """Whether what follows the value read from ``start`` to ``end`` may be dropped.

    Avalon 10xx's multi-command reply (avalon_a10xx_pools+summary+stats.txt) ends with a
    stray ``"`` after its closing brace. Whatever follows a complete object or array is
    dropped, unless it holds another object or array: that would be data, not noise.
    """
    after, _ = _outside_strings(text[end:])
    return text.startswith(("{", "["), start) and "{" not in after and "[" not in after


def comma_between_objects(text: str, pos: int) -> str | None:
    """``}{``: records printed back to back with no comma.

    bmminer and cgminer 4.9 ``stats`` on Antminer S9 and L3+ (antminer_s9_stats.txt,
    antminer_l3plus_stats.txt): ``"STATS":[{"CGMiner":"4.9.0",...}{"STATS":0,...}]``.
    """
    if text.startswith("{", pos) and _char(text, _previous(text, pos)) == "}":
        return text[:pos] + "," + text[pos:]
    return None


_NOT_A_NUMBER = re.compile(r"[-+]?(?:nan|inf(?:inity)?)(?:\(\w*\))?", re.IGNORECASE)
_DELIMITERS = frozenset(' \t\r\n"{}[]:,')
_BARE_WORD = re.compile(r'[^ \t\r\n"{}\[\]:,]*')


def bare_nan_inf(text: str, pos: int) -> str | None:
    """``"MHS av":nan``: C's printf of a NaN or infinite double, unquoted.

    cgminer 4.11.1 on Avalon 10xx before its first share (avalon_a10xx_pools+summary+stats.txt).
    Each becomes ``null``: the device did not have a value.
    """
    # The parser stops at the word's start, or inside it when it read a JSON constant
    # that begins it, as in ``NaN(ind)``.
    start, lowest = pos, max(0, pos - _LONGEST_BARE_WORD)
    while start > lowest and text[start - 1] not in _DELIMITERS:
        start -= 1
    if start > 0 and text[start - 1] not in _DELIMITERS:
        return None  # a word longer than any NaN (a megabyte of digits): not this defect
    end = _BARE_WORD.match(text, start).end()
    if end > start and _NOT_A_NUMBER.fullmatch(text, start, end):
        return text[:start] + "null" + text[end:]
    return None


def trailing_commas(text: str, pos: int) -> str | None:
    """``,}`` / ``,]``: a comma after the last member.

    btminer (Whatsminer) replies, as pyasic's maintainers found; pyasic strips ``,}``.
    """
    # Python 3.13 stops at the comma itself ("Illegal trailing comma ..."), earlier ones
    # at the bracket after it.
    comma = pos if text.startswith(",", pos) else _previous(text, pos)
    if (_char(text, comma) == "," and text.startswith(("}", "]"), _next(text, comma + 1))
            # after a comma it is not one trailing comma: ``[1,,]`` stays an error
            and _char(text, _previous(text, comma)) != ","):
        return text[:comma] + text[comma + 1:]
    return None


def leading_commas(text: str, pos: int) -> str | None:
    """``[,{``: a comma before the first member.

    bmminer replies, as pyasic's maintainers found; pyasic strips ``[,{``.
    """
    if (text.startswith(",", pos) and _char(text, _previous(text, pos)) in ("{", "[")
            # before another comma it is not one leading comma: ``[,,1]`` stays an error
            and not text.startswith(",", _next(text, pos + 1))):
        return text[:pos] + text[pos + 1:]
    return None


# The rest of a string from a character or escape inside it, up to its closing quote.
_STRING_REST = re.compile(r'(?:[^"\\]++|\\.)*+', re.DOTALL)
_ESCAPE = re.compile(r'\\(?:(["\\/bfnrt]|u[0-9a-fA-F]{4})|(.))', re.DOTALL)


def invalid_escapes(text: str, pos: int) -> str | None:
    """``\\'`` and other escapes JSON does not have: the backslash goes, the character stays.

    Whatsminer M20S, cgminer 4.9.2 (whatsminer_m20s_summary.txt):
    ``"Firmware Version":"\\'20200917.22.REL\\'"``, which later firmwares send as
    ``"'20210322.22.REL'"`` (whatsminer_m20s_summary_with_errors.json).
    """
    # The parser stops at the backslash, or at the ``u`` after it for a bad ``\\u``.
    start = pos if text.startswith("\\", pos) else pos - 1
    end = _STRING_REST.match(text, start).end()
    rest = _ESCAPE.sub(lambda m: m.group(0) if m.group(1) else m.group(2), text[start:end])
    return text[:start] + rest + text[end:] if len(rest) < end - start else None


# A backslash before a raw control character is an invalid escape, left for
# invalid_escapes: escaping the character after it would make an escaped backslash. So the
# string is split at escapes, and only the text between them is translated (at C speed).
_ESCAPE_PAIR = re.compile(r"(\\.)", re.DOTALL)
_CONTROL_ESCAPES = {code: {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}.get(
    chr(code), f"\\u{code:04x}") for code in range(0x20)}


def control_characters(text: str, pos: int) -> str | None:
    """A raw line break (or other control character) inside a string.

    The Antminer S9's ``Type`` is "Antminer S9", a line break, "V1.3.58"
    (antminer_s9_stats.txt, where the capture stores it escaped); firmwares that print it
    unescaped send a raw newline, which pyasic works around for btminer by deleting every
    newline. Here the character is kept, escaped, so the value reads as the firmware meant.
    """
    end = _STRING_REST.match(text, pos).end()
    pieces = _ESCAPE_PAIR.split(text[pos:end])
    pieces[::2] = [piece.translate(_CONTROL_ESCAPES) for piece in pieces[::2]]
    return text[:pos] + "".join(pieces) + text[end:]


# What each of the parser's complaints (CPython's json messages) can be, in the order tried.
REPAIRS: dict[str, tuple[Repair, ...]] = {
    "Expecting ',' delimiter": (comma_between_objects, bare_nan_inf),
    "Expecting value": (bare_nan_inf, leading_commas, trailing_commas),
    "Expecting property name enclosed in double quotes": (leading_commas, trailing_commas),
    "Illegal trailing comma before end of array": (trailing_commas,),  # Python 3.13+
    "Illegal trailing comma before end of object": (trailing_commas,),  # Python 3.13+
    "Invalid \\escape": (invalid_escapes,),
    "Invalid \\uXXXX escape": (invalid_escapes,),
    "Invalid control character at": (control_characters,),
}
