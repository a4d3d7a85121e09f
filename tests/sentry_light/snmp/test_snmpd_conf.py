"""``minerwatch-sentry snmpd-conf``: the printed block, and an install that touches nothing else."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest

from collectors.mib import dotted
from sentry_light.snmp import cli, snmpd_conf
from snmp_agent.snmpd_conf import ConfError

DEBIAN_DEFAULT = """\
sysLocation    Sitting on the Dock of the Bay
sysContact     Me <me@example.org>
agentaddress  127.0.0.1,[::1]
view   systemonly  included   .1.3.6.1.2.1.1
rocommunity  public default -V systemonly
includeDir /etc/snmp/snmpd.conf.d"""  # no newline at the end, as hand-edited files often have


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_block_has_the_pass_persist_line_and_the_access_hints_as_comments():
    text = snmpd_conf.block(Path("/run/minerwatch-sentry/rig.json"))
    live = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(live) == 1
    assert live[0].startswith("pass_persist .1.3.6.1.4.1.8072.9999.9999.1.1 ")  # mwRigObjects
    assert live[0].endswith("pass-persist --snapshot /run/minerwatch-sentry/rig.json") \
        or live[0].endswith("-m sentry_light.snmp.pass_persist --snapshot /run/minerwatch-sentry/rig.json")
    assert "#   rouser minerwatch priv -V minerwatch" in text and "createUser minerwatch SHA" in text


def test_another_base_reaches_the_responder_too():
    text = snmpd_conf.block(Path("/s.json"), base=(1, 3, 6, 1, 4, 1, 99999, 1))
    assert "pass_persist .1.3.6.1.4.1.99999.1.1 " in text and "--base 1.3.6.1.4.1.99999.1" in text


def test_a_path_snmpd_would_split_is_refused():
    with pytest.raises(ConfError, match="blank"):
        snmpd_conf.block(Path("/my snapshots/s.json"))


def test_install_appends_once_keeps_the_rest_and_replaces_its_own_block(tmp_path, capsys):
    conf = tmp_path / "snmpd.conf"
    conf.write_text(DEBIAN_DEFAULT)
    os.chmod(conf, 0o640)
    assert run("snmpd-conf", "--install", "--file", str(conf), "--snapshot", "/a.json") == 0
    first = conf.read_text()
    assert first.startswith(DEBIAN_DEFAULT + "\n\n" + snmpd_conf.MARKERS.begin)
    assert (tmp_path / "snmpd.conf.minerwatch-sentry.bak").read_text() == DEBIAN_DEFAULT
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640

    assert run("snmpd-conf", "--install", "--file", str(conf), "--snapshot", "/a.json") == 0
    assert conf.read_text() == first
    assert "nothing written" in capsys.readouterr().out

    conf.write_text(first + "syslocation added later\n")
    assert run("snmpd-conf", "--install", "--file", str(conf), "--snapshot", "/b.json") == 0
    text = conf.read_text()
    assert text.count(snmpd_conf.MARKERS.begin) == 1 and "/b.json" in text and "/a.json" not in text
    assert text.startswith(DEBIAN_DEFAULT) and text.endswith("syslocation added later\n")


def test_install_creates_a_missing_file_readable_by_root_only(tmp_path):
    conf = tmp_path / "snmpd.conf"
    assert run("snmpd-conf", "--install", "--file", str(conf)) == 0
    assert conf.read_text().startswith(snmpd_conf.MARKERS.begin)
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert not (tmp_path / "snmpd.conf.minerwatch-sentry.bak").exists()


def test_broken_markers_are_left_for_a_person(tmp_path, capsys):
    conf = tmp_path / "snmpd.conf"
    conf.write_text(f"{snmpd_conf.MARKERS.begin}\npass_persist .1.3 /x\n")
    assert run("snmpd-conf", "--install", "--file", str(conf)) == 1
    assert "fix the file by hand" in capsys.readouterr().err
    assert conf.read_text() == f"{snmpd_conf.MARKERS.begin}\npass_persist .1.3 /x\n"


def test_without_install_it_prints_the_block(capsys):
    assert run("snmpd-conf", "--snapshot", "/x.json") == 0
    out = capsys.readouterr().out
    assert out == snmpd_conf.block(Path("/x.json"))
    assert f"pass_persist .{dotted((1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 1, 1))} " in out


def test_the_snapshot_path_defaults_to_the_sentrys_configuration(tmp_path, capsys):
    config = tmp_path / "sentry.toml"
    config.write_text('snapshot_path = "/srv/rig/state.json"\n')
    args = argparse.Namespace(snapshot=None, base=(1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 1), install=False,
                              file=tmp_path / "snmpd.conf", config=config)
    assert cli.run_snmpd_conf(args) == 0
    assert "--snapshot /srv/rig/state.json\n" in capsys.readouterr().out


@pytest.mark.parametrize("begin", [
    "# BEGIN minerwatch-sentry (managed by `minerwatch-sentry snmpd-conf --install`; edits here are replaced)",
    "# BEGIN minerwatch-sentry (worded otherwise by some other version)",
])
def test_a_block_an_earlier_version_installed_is_replaced_not_doubled(tmp_path, begin):
    conf = tmp_path / "snmpd.conf"
    conf.write_text(f"sysLocation here\n{begin}\npass_persist .1.3 /old\n# END minerwatch-sentry\nsysContact me\n")
    assert run("snmpd-conf", "--install", "--file", str(conf), "--snapshot", "/new.json") == 0
    assert conf.read_text() == f"sysLocation here\n{snmpd_conf.block(Path('/new.json'))}sysContact me\n"
