"""Each HTTP driver's web signature claims its own firmware's page and no other driver's."""

from __future__ import annotations

import pytest

from collectors.asic import auradine, bitmain_web, epic, espminer, goldshell, iceriver, innosilicon, vnish
from collectors.transport.http import WebPage

SIGNATURES = {
    "vnish": vnish.web_signature, "epic": epic.web_signature, "espminer": espminer.web_signature,
    "iceriver": iceriver.web_signature, "goldshell": goldshell.web_signature,
    "innosilicon": innosilicon.web_signature, "auradine": auradine.web_signature,
    "elphapex": bitmain_web.elphapex_signature, "blackminer": bitmain_web.blackminer_signature,
}


def page(body: str = "", status: int = 200, realm: str | None = None, title: str | None = None) -> WebPage:
    return WebPage(status=status, headers={}, body=body, realm=realm, title=title)


PAGES = {
    "vnish": page('<html><head><title>AnthillOS</title><script src="/js/app.js"></script></head></html>'),
    "epic": page('{"Model": "AntMiner S19 XP", "Max HBs": 3, "Chip Type": "BM1366"}'),
    "espminer": page("<html><head><title>AxeOS</title></head><body><app-root></app-root></body></html>",
                     title="AxeOS"),
    "iceriver": page("<html><head><TITLE>用户界面</TITLE></head></html>", title="用户界面"),
    "goldshell": page('<html><body><div id="cloud-box"></div></body></html>'),
    "innosilicon": page("<html><head><title>DragonMint</title></head></html>", title="DragonMint"),
    "auradine": page("<html><head><title>Miner UI</title></head></html>", title="Miner UI"),
    "elphapex": page(status=401, realm="Daoge Miner"),
    "blackminer": page(status=401, realm="blackMiner Configuration"),
}
OTHERS = {
    "stock Antminer": page(status=401, realm="antMiner Configuration"),
    "ePIC dashboard on :80": page("<title>Miner Web Dashboard</title>", title="Miner Web Dashboard"),
    "a router": page("<html><head><title>Router</title></head></html>", title="Router"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_signature_claims_only_its_own_page(name):
    claimed = {driver for driver, signature in SIGNATURES.items() if signature(PAGES[name])}
    assert claimed == {name}


@pytest.mark.parametrize("what", sorted(OTHERS))
def test_no_signature_claims_other_pages(what):
    assert [d for d, signature in SIGNATURES.items() if signature(OTHERS[what])] == []


def test_epic_names_the_extra_path_it_needs():
    assert epic.WEB_PROBE_PATH == "/capabilities"
