"""Per-make drivers: each module maps one firmware family's replies to the snapshot.

``DRIVERS`` is the registry: adding a make is one module, one testdata folder, one line here.
The signature lists give identification its fixed precedence: the first that claims a device
wins, so a specific firmware (Braiins OS on an Antminer) comes before a general one (stock).
"""

from collectors.asic import (
    antminer, auradine, avalon, bitmain_web, braiins, cgminer, epic, espminer, goldshell, hammer,
    iceriver, innosilicon, luxos, mskminer, sealminer, vnish, whatsminer,
)
from collectors.asic.driver import Driver

DRIVERS: dict[str, Driver] = {
    "antminer": antminer.DRIVER,
    "auradine": auradine.DRIVER,
    "avalon": avalon.DRIVER,
    "blackminer": bitmain_web.BLACKMINER,
    "braiins": braiins.DRIVER,
    "cgminer": cgminer.DRIVER,
    "elphapex": bitmain_web.ELPHAPEX,
    "epic": epic.DRIVER,
    "espminer": espminer.DRIVER,
    "goldshell": goldshell.DRIVER,
    "hammer": hammer.DRIVER,
    "iceriver": iceriver.DRIVER,
    "innosilicon": innosilicon.DRIVER,
    "luxos": luxos.DRIVER,
    "mskminer": mskminer.DRIVER,
    "sealminer": sealminer.DRIVER,
    "vnish": vnish.DRIVER,
    "whatsminer": whatsminer.DRIVER,
    "whatsminer_v3": whatsminer.DRIVER_V3,
}

# Step 1: the cgminer RPC's `version` (then `devdetails`) on port 4028.
RPC_SIGNATURES = (
    ("braiins", braiins.rpc_signature),
    ("luxos", luxos.rpc_signature),
    ("whatsminer", whatsminer.rpc_signature),
    ("avalon", avalon.rpc_signature),
    ("auradine", auradine.rpc_signature),
    ("sealminer", sealminer.rpc_signature),
    ("hammer", hammer.rpc_signature),
    ("mskminer", mskminer.rpc_signature),
    ("antminer", antminer.rpc_signature),
)

# Step 2: Whatsminer's API V3 on 4433 (newer firmwares close 4028): `get.device.info`.
BTMINER_SIGNATURES = (
    ("whatsminer_v3", whatsminer.v3_signature),
)

# Step 3: the web page (path on the driver's web port); each path is fetched once per address.
WEB_SIGNATURES = (
    ("vnish", "/", vnish.web_signature),
    ("epic", epic.WEB_PROBE_PATH, epic.web_signature),
    ("espminer", "/", espminer.web_signature),
    ("iceriver", "/", iceriver.web_signature),
    ("goldshell", "/", goldshell.web_signature),
    ("innosilicon", "/", innosilicon.web_signature),
    ("auradine", "/", auradine.web_signature),
    ("elphapex", "/", bitmain_web.elphapex_signature),
    ("blackminer", "/", bitmain_web.blackminer_signature),
)
