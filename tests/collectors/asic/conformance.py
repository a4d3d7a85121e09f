"""Loading the real captures in ../shared/fixtures/asic for the conformance tests.

They are third-party test data and stay outside the repository. SOURCES.md there says how each
was saved: asic-rs files are JSON, pyasic files are Python literals, foreman files are raw wire bytes.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from collectors.errors import ProtocolError
from collectors.transport.decode import decode
from tests.conftest import require, shared_fixtures


def asic_capture(name: str) -> Any:
    """The decoded reply of one capture, skipped (failed in CI) when the folder is absent."""
    folder = shared_fixtures() / "asic"
    require(folder.is_dir(), f"the real captures in {folder}")
    path: Path = folder / name
    raw = path.read_bytes()
    try:
        return decode(raw, name)
    except ProtocolError:  # pyasic's captures are Python dict literals, not wire bytes
        return ast.literal_eval(raw.decode())
