"""Turn a miner's reply into a Python value, tolerating the defects real firmwares send.

Valid JSON costs one strict parse and nothing else. Only when that fails is the reply
split into JSON tokens (strings kept whole, so nothing inside a string is ever touched)
and the repairs below applied, each a named function for one defect proven by a capture
in ``shared/fixtures/asic`` (see SOURCES.md there) or reported by pyasic's maintainers.
A repair never invents data: a reply cut short is an error, not a guess.

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
import re
from collections.abc import Callable
from typing import Any

from collectors.errors import ProtocolError

log = logging.getLogger(__name__)

Tokens = list[str]

# JSON's own NaN/Infinity are accepted by json.loads; map them to None like the bare ones.
_DECODER = json.JSONDecoder(parse_constant=lambda _name: None)
_TRAILING = b"\x00 \t\r\n"

_TOKEN = re.compile(
    r"""
      (?P<string>"(?:[^"\\]++|\\.)*+")
    | (?P<open>"(?:[^"\\]++|\\.)*+\\?)      # a string the end of the reply cut off
    | [{}\[\]:,]
    | [^ \t\r\n"{}\[\]:,]++                 # numbers, true/false/null, and bare words
    """,
    re.VERBOSE | re.DOTALL,
)


def decode(raw: bytes, source: str) -> Any:
    """The value of a reply from ``source`` ("10.0.3.9:4028"), or ProtocolError."""
    raw = raw.rstrip(_TRAILING)
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        pass  # UnicodeDecodeError and JSONDecodeError are ValueErrors: try the repairs
    if not raw.strip():
        raise ProtocolError(f"{source} sent an empty reply")
    return _repaired(raw.decode("utf-8", errors="replace"), source)


def _repaired(text: str, source: str) -> Any:
    tokens, cut = _tokenize(text)
    value_tokens = _top_level_value(tokens, cut, source)
    applied = ["stray_bytes_after_value"] if len(value_tokens) < len(tokens) else []
    tokens = value_tokens
    for repair in REPAIRS:
        fixed = repair(tokens)
        if fixed is not tokens:
            applied.append(repair.__name__)
            tokens = fixed
    try:
        value = _DECODER.decode(" ".join(tokens))
    except RecursionError as exc:
        raise ProtocolError(f"{source} sent a reply nested too deeply to read") from exc
    except ValueError as exc:
        raise ProtocolError(f"{source} answered but not as a miner") from exc
    log.debug("%s: reply repaired (%s)", source, ", ".join(applied) or "invalid UTF-8 replaced")
    return value


def _tokenize(text: str) -> tuple[Tokens, bool]:
    """JSON tokens without the whitespace between them, and whether a string ran to the end."""
    tokens, cut = [], False
    for match in _TOKEN.finditer(text):
        tokens.append(match.group())
        cut = match.lastgroup == "open"
    return tokens, cut


def _top_level_value(tokens: Tokens, cut: bool, source: str) -> Tokens:
    """The tokens of the reply's first value, dropping stray bytes after a complete object.

    Avalon 10xx's multi-command reply (avalon_a10xx_pools+summary+stats.txt) ends with a
    stray ``"`` after its closing brace. Whatever follows a complete object or array is
    dropped, unless it holds another object or array: that would be data, not noise.
    """
    if not tokens or tokens[0] not in ("{", "["):
        if cut:
            raise ProtocolError(f"{source} sent a truncated reply")
        return tokens
    depth = 0
    for index, token in enumerate(tokens):
        if token in ("{", "["):
            depth += 1
        elif token in ("}", "]"):
            depth -= 1
            if depth == 0:
                rest = tokens[index + 1:]
                if any(t in ("{", "[") for t in rest):
                    raise ProtocolError(f"{source} answered but not as a miner")
                return tokens[: index + 1]
    raise ProtocolError(f"{source} sent a truncated reply")


# --- the repairs: each takes the token list and returns it unchanged (the same object)
# --- when its defect is absent, so the log can name the ones that did something.


def comma_between_objects(tokens: Tokens) -> Tokens:
    """``}{``: records printed back to back with no comma.

    bmminer and cgminer 4.9 ``stats`` on Antminer S9 and L3+ (antminer_s9_stats.txt,
    antminer_l3plus_stats.txt): ``"STATS":[{"CGMiner":"4.9.0",...}{"STATS":0,...}]``.
    """
    if not any(a == "}" and b == "{" for a, b in zip(tokens, tokens[1:])):
        return tokens
    fixed = [tokens[0]]
    for previous, token in zip(tokens, tokens[1:]):
        if previous == "}" and token == "{":
            fixed.append(",")
        fixed.append(token)
    return fixed


_NOT_A_NUMBER = re.compile(r"[-+]?(?:nan|inf(?:inity)?)(?:\(\w*\))?", re.IGNORECASE)


def bare_nan_inf(tokens: Tokens) -> Tokens:
    """``"MHS av":nan``: C's printf of a NaN or infinite double, unquoted.

    cgminer 4.11.1 on Avalon 10xx before its first share (avalon_a10xx_pools+summary+stats.txt).
    Each becomes ``null``: the device did not have a value.
    """
    if not any(_NOT_A_NUMBER.fullmatch(t) for t in tokens if t[0] != '"'):
        return tokens
    return ["null" if t[0] != '"' and _NOT_A_NUMBER.fullmatch(t) else t for t in tokens]


def _drop_commas(tokens: Tokens, hit: Callable[[int], bool]) -> Tokens:
    drop = {i for i, t in enumerate(tokens) if t == "," and hit(i)}
    return [t for i, t in enumerate(tokens) if i not in drop] if drop else tokens


def trailing_commas(tokens: Tokens) -> Tokens:
    """``,}`` / ``,]``: a comma after the last member.

    btminer (Whatsminer) replies, as pyasic's maintainers found; pyasic strips ``,}``.
    """
    end = len(tokens) - 1
    return _drop_commas(tokens, lambda i: i < end and tokens[i + 1] in ("}", "]"))


def leading_commas(tokens: Tokens) -> Tokens:
    """``[,{``: a comma before the first member.

    bmminer replies, as pyasic's maintainers found; pyasic strips ``[,{``.
    """
    return _drop_commas(tokens, lambda i: i > 0 and tokens[i - 1] in ("{", "["))


_ESCAPE = re.compile(r'\\(?:(["\\/bfnrt]|u[0-9a-fA-F]{4})|(.))', re.DOTALL)


def invalid_escapes(tokens: Tokens) -> Tokens:
    """``\\'`` and other escapes JSON does not have: the backslash goes, the character stays.

    Whatsminer M20S, cgminer 4.9.2 (whatsminer_m20s_summary.txt):
    ``"Firmware Version":"\\'20200917.22.REL\\'"``, which later firmwares send as
    ``"'20210322.22.REL'"`` (whatsminer_m20s_summary_with_errors.json).
    """
    fixed = None
    for index, token in enumerate(tokens):
        if token[0] == '"' and "\\" in token:
            repaired = _ESCAPE.sub(lambda m: m.group(0) if m.group(1) else m.group(2), token)
            if repaired != token:
                fixed = fixed or list(tokens)
                fixed[index] = repaired
    return fixed or tokens


_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def control_characters(tokens: Tokens) -> Tokens:
    """A raw line break (or other control character) inside a string.

    The Antminer S9's ``Type`` is "Antminer S9", a line break, "V1.3.58"
    (antminer_s9_stats.txt, where the capture stores it escaped); firmwares that print it
    unescaped send a raw newline, which pyasic works around for btminer by deleting every
    newline. Here the character is kept, escaped, so the value reads as the firmware meant.
    """
    fixed = None
    for index, token in enumerate(tokens):
        if token[0] == '"' and _CONTROL.search(token):
            fixed = fixed or list(tokens)
            fixed[index] = _CONTROL.sub(
                lambda m: _CONTROL_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), token)
    return fixed or tokens


# Order matters only for escapes: a backslash before a raw control character is dropped
# first, then the character is escaped properly.
REPAIRS: tuple[Callable[[Tokens], Tokens], ...] = (
    comma_between_objects,
    bare_nan_inf,
    trailing_commas,
    leading_commas,
    invalid_escapes,
    control_characters,
)
