"""The mining programs a sentry knows: name -> ``Program`` (port, endpoints, parse).

Adding a program = one module here with its ``PROGRAM``, one line below, a fixture folder in
``tests/sentry_light/testdata/programs/`` and a row in ``sentry_light/README.md``.
"""

from __future__ import annotations

from sentry_light.sources.programs import (bzminer, gminer, lolminer, nanominer, nbminer, onezerominer, rigel,
                                           srbminer, teamredminer, trex, xmrig)
from sentry_light.sources.programs.base import Program

PROGRAMS: dict[str, Program] = {module.PROGRAM.name: module.PROGRAM for module in (
    xmrig, trex, lolminer, teamredminer, gminer, nbminer, srbminer, nanominer, rigel, bzminer, onezerominer)}
