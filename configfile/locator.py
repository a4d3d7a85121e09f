"""Where each table header, key and array element of a TOML text starts: ``tomllib`` gives values
but no positions, and tomlkit keeps the text's layout (``trivia``) but not where an item sits either
(only its parse errors carry line and column). So the values come from ``tomllib`` and ``Locator``
scans the same text once, after tomllib has accepted it."""

from __future__ import annotations

import bisect
import re
import tomllib

Place = tuple[str | int, ...]  # ("miners", 2, "ip"), ("sites", 0, "subnets", 1)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Locator:
    """Line and column (from 1) of every table header, key and array element of a TOML text.

    Run only on text tomllib has accepted, so it skips over values without checking them. It walks
    the grammar's structure, not lines, so a multi-line string or array holding ``[x]`` or
    ``k = v`` is skipped as a value. A table named by several headers ([a.b] then [a.c]) is placed
    at the first; an array of tables' element at its own ``[[...]]``; a dotted key (a.b = 1) places
    each of its prefixes at that key unless placed before.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.spots: dict[Place, int] = {}  # place -> offset in text
        self.counts: dict[Place, int] = {}  # elements of each array of tables seen so far
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._document()

    def find(self, place: Place) -> tuple[int, int] | None:
        """(line, column) of ``place``, else of its nearest placed ancestor; None if none is."""
        while place:
            if place in self.spots:
                offset = self.spots[place]
                line = bisect.bisect_right(self._line_starts, offset)
                return line, offset - self._line_starts[line - 1] + 1
            place = place[:-1]
        return None

    def _document(self) -> None:
        prefix: Place = ()
        while True:
            self._blank(newlines=True)
            if self.i >= len(self.text):
                return
            start = self.i
            if self.text.startswith("[[", self.i):
                self.i += 2
                prefix = self._header(self._key(), start, array=True)
                self.i += 2
            elif self.text[self.i] == "[":
                self.i += 1
                prefix = self._header(self._key(), start, array=False)
                self.i += 1
            else:
                self._keyval(prefix)

    def _header(self, keys: tuple[str, ...], start: int, array: bool) -> Place:
        place: Place = ()
        for n, key in enumerate(keys):
            place += (key,)
            if array and n == len(keys) - 1:
                index = self.counts.get(place, 0)
                self.counts[place] = index + 1
                self.spots.setdefault(place, start)
                place += (index,)
            elif place in self.counts:  # [[sites]] then [sites.x] or [[sites.racks]]: the last element's
                place += (self.counts[place] - 1,)
            self.spots.setdefault(place, start)
        self.spots[place] = start  # a table's own header beats the header of a subtable seen first
        return place

    def _keyval(self, prefix: Place) -> None:
        start = self.i
        place = prefix
        for key in self._key():
            place += (key,)
            self.spots.setdefault(place, start)
        self._blank(newlines=False)
        self.i += 1  # "="
        self._blank(newlines=False)
        self._value(place)

    def _key(self) -> tuple[str, ...]:
        keys = []
        text = self.text
        while True:
            self._blank(newlines=False)
            if text[self.i] == '"':
                end = self._string_end(self.i + 1, '"', escapes=True)
                keys.append(tomllib.loads("k = " + text[self.i:end])["k"])  # tomllib decodes the escapes
                self.i = end
            elif text[self.i] == "'":
                end = text.index("'", self.i + 1)
                keys.append(text[self.i + 1:end])
                self.i = end + 1
            else:
                match = _BARE_KEY.match(text, self.i)
                assert match is not None, "tomllib accepted this text, so a key starts here"
                keys.append(match.group())
                self.i = match.end()
            self._blank(newlines=False)
            if text[self.i] != ".":
                return tuple(keys)
            self.i += 1

    def _value(self, place: Place) -> None:
        text, i = self.text, self.i
        if text.startswith('"""', i):
            self.i = self._multiline_end(i + 3, '"""', escapes=True)
        elif text.startswith("'''", i):
            self.i = self._multiline_end(i + 3, "'''", escapes=False)
        elif text[i] in "\"'":
            self.i = self._string_end(i + 1, text[i], escapes=text[i] == '"')
        elif text[i] == "[":
            self.i += 1
            index = 0
            while True:
                self._blank(newlines=True)
                if text[self.i] == "]":
                    self.i += 1
                    return
                self.spots[place + (index,)] = self.i
                self._value(place + (index,))
                index += 1
                self._blank(newlines=True)
                if text[self.i] == ",":
                    self.i += 1
        elif text[i] == "{":
            self.i += 1
            while True:
                self._blank(newlines=True)
                if text[self.i] == "}":
                    self.i += 1
                    return
                self._keyval(place)
                self._blank(newlines=True)
                if text[self.i] == ",":
                    self.i += 1
        else:  # number, boolean, date (which may hold a space): up to what ends a value
            while self.i < len(text) and text[self.i] not in ",]}#\r\n":
                self.i += 1

    def _string_end(self, i: int, quote: str, escapes: bool) -> int:
        while self.text[i] != quote:
            i += 2 if escapes and self.text[i] == "\\" else 1
        return i + 1

    def _multiline_end(self, i: int, delimiter: str, escapes: bool) -> int:
        while True:
            if escapes and self.text[i] == "\\":
                i += 2
            elif self.text.startswith(delimiter, i):
                i += 3
                for _ in range(2):  # up to two quotes before the delimiter belong to the string
                    if i < len(self.text) and self.text[i] == delimiter[0]:
                        i += 1
                return i
            else:
                i += 1

    def _blank(self, newlines: bool) -> None:
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c in " \t" or newlines and c in "\r\n":
                self.i += 1
            elif newlines and c == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            else:
                return
