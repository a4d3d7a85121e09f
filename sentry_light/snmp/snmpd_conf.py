"""The rig's snmpd.conf block: its pass_persist line hands MINERWATCH-MIB's rig subtree (mwRigObjects)
to the sentry's responder. Marking and installing the block are ``snmp_agent.snmpd_conf``'s.

The rig's subtree, not the module's whole base: snmpd gives a request to the first pass_persist line
whose subtree holds it, so a line for the base would take the farm's requests too on a host whose
snmpd serves both (the commander's line is for mwFarmObjects)."""

from __future__ import annotations

import sys
from pathlib import Path

from collectors.mib import BASE, Oid, oid
from snmp_agent import snmpd_conf

MARKERS = snmpd_conf.Markers("minerwatch-sentry", "minerwatch-sentry snmpd-conf")


def responder_command(snapshot: Path, base: Oid = BASE) -> str:
    """How snmpd starts the responder: the installed ``minerwatch-sentry`` beside this Python,
    else this Python with ``-m`` (a checkout, a virtual environment without the script)."""
    script = Path(sys.executable).with_name("minerwatch-sentry")
    program = f"{script} pass-persist" if script.exists() else f"{sys.executable} -m sentry_light.snmp.pass_persist"
    return f"{program} --snapshot {snapshot}{snmpd_conf.base_option(base)}"


def block(snapshot: Path, base: Oid = BASE, command: str | None = None) -> str:
    """The marked block: the pass_persist line, and the access choices as comments."""
    snmpd_conf.check_path(snapshot, "snapshot")
    return snmpd_conf.block(MARKERS, oid("mwRigObjects", base), command or responder_command(snapshot, base),
                            served="MINERWATCH-MIB, served from the sentry's snapshot by its pass_persist responder.",
                            reader="commander")
