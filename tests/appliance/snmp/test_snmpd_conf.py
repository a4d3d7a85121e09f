"""``minerwatch snmpd-conf``: the commander's block, and one snmpd.conf that holds it beside a rig
sentry's, each installed without touching the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import build_parser
from appliance.snmp import cli
from collectors.mib import BASE, dotted, oid
from sentry_light.snmp import snmpd_conf as sentry_conf
from snmp_agent.snmpd_conf import ConfError, install

FARM = "." + dotted(oid("mwFarmObjects"))
DEBIAN_DEFAULT = "agentaddress  127.0.0.1,[::1]\nrocommunity  public default -V systemonly\n"


def run(*argv: str) -> int:
    """``minerwatch`` itself, with every package's commands, as a person runs it."""
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_the_block_hands_the_farm_subtree_to_the_responder_and_lists_the_access_choices():
    text = cli.block(Path("/var/lib/minerwatch/snmp/farm.json"))
    live = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(live) == 1
    assert live[0].startswith(f"pass_persist {FARM} ")
    assert live[0].endswith("-m appliance.snmp.responder --farm /var/lib/minerwatch/snmp/farm.json")
    assert text.startswith(cli.MARKERS.begin + "\n") and text.endswith(cli.MARKERS.end + "\n")
    assert "# SNMPv3 authPriv (recommended):" in text and "#   rouser minerwatch priv -V minerwatch" in text
    assert f"#   rocommunity COMMUNITY NMS-IP {FARM}" in text


def test_another_base_reaches_the_responder_too():
    text = cli.block(Path("/f.json"), base=(1, 3, 6, 1, 4, 1, 99999, 1))
    assert "pass_persist .1.3.6.1.4.1.99999.1.2 " in text and "--base 1.3.6.1.4.1.99999.1" in text


def test_a_path_snmpd_would_split_is_refused(capsys):
    with pytest.raises(ConfError, match="blank"):
        cli.block(Path("/my farm/farm.json"))
    assert run("snmpd-conf", "--farm", "/my farm/farm.json") == 1
    assert capsys.readouterr().err.startswith("minerwatch: the farm document path")


def test_the_sentrys_block_and_the_commanders_live_in_one_file_untouched_by_each_other(tmp_path, capsys):
    conf = tmp_path / "snmpd.conf"
    conf.write_text(DEBIAN_DEFAULT)
    sentry = sentry_conf.block(Path("/run/minerwatch-sentry/rig.json"))
    install(conf, sentry, sentry_conf.MARKERS)
    assert run("snmpd-conf", "--install", "--file", str(conf), "--farm", "/a/farm.json") == 0
    both = conf.read_text()
    assert both == DEBIAN_DEFAULT + "\n" + sentry + "\n" + cli.block(Path("/a/farm.json"))
    assert (tmp_path / "snmpd.conf.minerwatch-commander.bak").read_text() == DEBIAN_DEFAULT + "\n" + sentry

    assert run("snmpd-conf", "--install", "--file", str(conf), "--farm", "/a/farm.json") == 0
    assert conf.read_text() == both and "nothing written" in capsys.readouterr().out

    assert run("snmpd-conf", "--install", "--file", str(conf), "--farm", "/b/farm.json") == 0
    moved = conf.read_text()
    assert moved == both.replace("/a/farm.json", "/b/farm.json")
    assert moved.startswith(DEBIAN_DEFAULT + "\n" + sentry)

    other_rig = sentry_conf.block(Path("/srv/rig.json"))
    assert install(conf, other_rig, sentry_conf.MARKERS).changed
    assert conf.read_text() == moved.replace(sentry, other_rig)
    assert not install(conf, other_rig, sentry_conf.MARKERS).changed


def test_broken_commander_markers_are_left_for_a_person_and_the_sentrys_block_does_not_mind(tmp_path, capsys):
    conf = tmp_path / "snmpd.conf"
    broken = f"{cli.MARKERS.begin}\npass_persist {FARM} /x\n"
    conf.write_text(broken)
    assert run("snmpd-conf", "--install", "--file", str(conf), "--farm", "/f.json") == 1
    assert "BEGIN and 0 END minerwatch-commander markers" in capsys.readouterr().err
    assert conf.read_text() == broken
    sentry = sentry_conf.block(Path("/rig.json"))
    assert install(conf, sentry, sentry_conf.MARKERS).changed
    assert conf.read_text() == broken + "\n" + sentry


def test_without_install_it_prints_the_block(capsys):
    assert run("snmpd-conf", "--farm", "/x.json") == 0
    assert capsys.readouterr().out == cli.block(Path("/x.json"))


def test_the_farm_file_defaults_to_the_commanders_state_dir(tmp_path, capsys):
    config = tmp_path / "commander.toml"
    config.write_text(f'[commander]\nstate_dir = "{tmp_path / "state"}"\n')
    assert run("snmpd-conf", "--config", str(config)) == 0
    assert f"--farm {tmp_path / 'state' / 'snmp' / 'farm.json'}\n" in capsys.readouterr().out


def test_the_secrets_of_the_service_user_are_not_read(tmp_path, capsys):
    # Root installs snmpd.conf lines; secrets.toml belongs to the service user and stays unread.
    config = tmp_path / "commander.toml"
    config.write_text(f'[commander]\nstate_dir = "{tmp_path / "state"}"\n[[sentries]]\nhost = "10.0.5.7"\n')
    (tmp_path / "secrets.toml").write_text('[snmp]\ncommunity = "c"\n')
    (tmp_path / "secrets.toml").chmod(0o644)  # what load() refuses
    assert run("snmpd-conf", "--config", str(config)) == 0
    assert f"--farm {tmp_path / 'state' / 'snmp' / 'farm.json'}" in capsys.readouterr().out


def test_a_broken_configuration_is_named_with_its_line(tmp_path, capsys):
    config = tmp_path / "commander.toml"
    config.write_text("[commander]\nstate_dir = 7\n")
    assert run("snmpd-conf", "--config", str(config)) == 2
    assert f"{config}:2" in capsys.readouterr().err


def test_minerwatch_has_both_commands():
    args = build_parser().parse_args(["pass-persist", "--farm", "/f.json"])
    assert (args.farm, args.base, args.stale_after) == (Path("/f.json"), BASE, 180.0)
    assert build_parser().parse_args(["snmpd-conf"]).func is cli.run_snmpd_conf
