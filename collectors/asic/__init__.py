"""Per-make drivers: each module maps one firmware family's replies to the snapshot.

``DRIVERS`` is the registry: adding a make is one module, one testdata folder, one line here.
Each driver carries the signature identification knows its firmware by; the lists below are
drawn from the registry in its order, which is their precedence.
"""

from collectors.asic import (
    antminer, auradine, avalon, bitmain_web, braiins, cgminer, epic, espminer, goldshell, hammer,
    iceriver, innosilicon, luxos, mskminer, sealminer, vnish, whatsminer,
)
from collectors.asic.driver import Driver

# In the order identification tries them: at each of its steps (collectors/identify.py) the first
# driver whose signature claims a device wins, so a specific firmware (Braiins OS on an Antminer)
# comes before a general one (stock), and the same device is classified the same way every time.
DRIVERS: dict[str, Driver] = {driver.name: driver for driver in (
    braiins.DRIVER,
    luxos.DRIVER,
    whatsminer.DRIVER,
    avalon.DRIVER,
    vnish.DRIVER,
    epic.DRIVER,
    espminer.DRIVER,
    iceriver.DRIVER,
    goldshell.DRIVER,
    innosilicon.DRIVER,
    auradine.DRIVER,
    sealminer.DRIVER,
    hammer.DRIVER,
    mskminer.DRIVER,
    antminer.DRIVER,
    bitmain_web.ELPHAPEX,
    bitmain_web.BLACKMINER,
    whatsminer.DRIVER_V3,
    cgminer.DRIVER,
)}

# Step 1: the cgminer RPC's `version` (then `devdetails`) on port 4028.
RPC_SIGNATURES = tuple((d.name, d.rpc_signature) for d in DRIVERS.values() if d.rpc_signature)

# Step 2: Whatsminer's API V3 on 4433 (newer firmwares close 4028): `get.device.info`.
BTMINER_SIGNATURES = tuple((d.name, d.btminer_signature) for d in DRIVERS.values() if d.btminer_signature)

# Step 3: the web page (path on the driver's web port); each path is fetched once per address.
WEB_SIGNATURES = tuple((d.name, d.web_probe, d.web_signature) for d in DRIVERS.values() if d.web_signature)
