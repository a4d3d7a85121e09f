"""The vendored browser files are the ones VENDOR.md names, byte for byte, and the pages load
nothing else from outside this package."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
VENDOR = WEB / "static" / "vendor"
ROW = re.compile(r"^\| `([^`]+)` \| `[^`]+` \| [^ |]+ \| `[^`]+` \| `([0-9a-f]{64})` \|", re.M)


def test_every_vendored_file_is_listed_with_its_sha256():
    listed = dict(ROW.findall((VENDOR / "VENDOR.md").read_text()))
    present = {path.name for path in VENDOR.iterdir() if path.name != "VENDOR.md"}
    assert set(listed) == present
    for name, sha in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha, f"{name} differs from VENDOR.md"


def test_templates_load_only_this_origins_files():
    for template in WEB.glob("templates/**/*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), f"{template.name} loads from another origin"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"{template.name} has an inline script"
        assert not re.search(r"\sstyle=", text), f"{template.name} has an inline style (the CSP refuses it)"
