"""Reading TOML configuration files, for the commander (``appliance/config/``) and the rig sentry
(``sentry_light/config.py``) alike, so that every mistake in either is one sentence with its file,
line and column, and all of a file's mistakes are reported at once, not only the first.

- ``locator.py``: where each table header, key and array element of a TOML text starts.
- ``document.py``: ``Document`` (one file and its problems), ``Table`` (typed getters with required
  keys and defaults, nested tables and arrays of tables, ``done()`` for unknown keys with "did you
  mean" and for secrets that do not belong), ``Problem`` and ``ConfigError``.
- ``kinds.py``: the kinds of values a getter takes (text, name, seconds, port, host, subnet, ...).

A reader records a mistake at a place (a path of keys), never by searching its own sentences::

    problems: list[Problem] = []
    document = Document.load(path, problems)            # None when unreadable or not TOML (said)
    table = document.root.table("intervals")
    poll_s = table.get("poll_s", kinds.seconds, 30)
    table.done()                                         # "unknown key 'pol_s' in [intervals] (did you mean 'poll_s'?)"
    if problems:
        raise ConfigError(ordered(problems, path))
"""

from configfile import kinds
from configfile.document import (
    REQUIRED, ConfigError, Document, Problem, Table, did_you_mean, from_mapping, ordered,
)
from configfile.kinds import Wrong
from configfile.locator import Locator, Place

__all__ = ["REQUIRED", "ConfigError", "Document", "Locator", "Place", "Problem", "Table", "Wrong", "did_you_mean",
           "from_mapping", "kinds", "ordered"]
