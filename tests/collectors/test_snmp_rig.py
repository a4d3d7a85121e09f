"""The commander's rig collector: its reading of the sentry's JSON and its GET plan,
against the responder's own rows (no network); tests/sentry_light/snmp/ runs it against snmpd."""

from __future__ import annotations

import zlib
from dataclasses import fields

import pytest

from collectors import mib, rig, rig_snapshot
from collectors.errors import DeviceUnreachable, ProtocolError
from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot
from collectors.transport.snmp import SnmpClient, SnmpTarget
from sentry_light.snmp import layout
from simfarm.samples.rig import twelve_gpu_rig

TARGET = SnmpTarget("10.0.7.12")


def test_every_model_field_is_read_or_set_by_the_commander():
    """When the model grows, parse_snapshot must learn the new field (or say it sets it itself)."""
    own = {"reachable", "ip", "port", "latency_ms", "cpu", "gpus", "programs", "faults", "absent",
           "hashrate_by_algorithm_hs"}
    assert {f.name for f in fields(RigSnapshot)} == set(rig_snapshot.RIG_FIELDS) | own
    assert {f.name for f in fields(Cpu)} == set(rig_snapshot.CPU_FIELDS)
    assert {f.name for f in fields(Gpu)} == set(rig_snapshot.GPU_FIELDS)
    assert {f.name for f in fields(MinerProgram)} == set(rig_snapshot.PROGRAM_FIELDS)


def test_absurd_values_are_dropped_and_the_rest_kept():
    data = twelve_gpu_rig(collected_at=1.7e9).to_dict()
    data["hostname"] = None
    data["memory_used_pct"] = 250.0
    data["gpus"][0].update(temp_c=300, fan_pct=-3, power_w=99_999, accepted=-1, hashrate_hs="fast", index=True)
    data["gpus"][1]["bus_id"] = None
    data["programs"].append({"name": "", "port": 1})
    data["cpu"] = "a cpu"
    data["faults"] = ["one", 2, None, ""]
    snapshot = rig_snapshot.parse_snapshot(data, fallback_hostname="10.0.7.12")
    assert snapshot.hostname == "10.0.7.12" and snapshot.memory_used_pct is None
    first = snapshot.gpus[0]
    assert (first.temp_c, first.fan_pct, first.power_w, first.accepted, first.hashrate_hs, first.index) == \
        (None, None, None, None, None, None)
    assert first.rejected == 0 and first.mem_temp_c == 80.5
    assert len(snapshot.gpus) == 11 and [p.name for p in snapshot.programs] == ["trex", "xmrig"]
    assert snapshot.cpu == Cpu() and snapshot.faults == ["one", "2"]


def test_the_rigs_totals_are_its_programs_per_algorithm_whatever_the_sentry_summed():
    data = twelve_gpu_rig(collected_at=1.7e9).to_dict()
    del data["hashrate_by_algorithm_hs"]
    data["hashrate_hs"] = 1e9  # an older sentry's sum over every algorithm: not read
    data["programs"][1].update(api_up=True, algorithm="rx/0", hashrate_hs=9_500.0, error=None)
    data["programs"].append({"name": "srbminer", "api_up": True, "algorithm": "randomx", "hashrate_hs": 500.0})
    snapshot = rig_snapshot.parse_snapshot(data, fallback_hostname="10.0.7.12")
    assert snapshot.hashrate_by_algorithm_hs == {"KawPow": sum(g["hashrate_hs"] for g in data["gpus"]),
                                                 "RandomX": 10_000.0}


class Responder:
    """Answers GETs from the rows the sentry's responder would serve; counts the GETs."""

    def __init__(self, *snapshots: dict) -> None:
        self.tables = [{key: value for key, _, value in layout.rows(s)} for s in snapshots]
        self.status = 1
        self.gets = 0

    async def get(self, target, wanted, timeout, retries):
        table = self.tables[min(self.gets, len(self.tables) - 1)]
        self.gets += 1
        answer = {}
        for key in wanted:
            value = self.status if key == mib.BASE + rig.SENTRY_STATUS else table.get(key)
            answer[key] = value.encode() if isinstance(value, str) else value
        return answer


async def test_a_12_gpu_rig_is_read_in_one_get():
    snapshot = twelve_gpu_rig(collected_at=1.7e9)
    responder = Responder(snapshot.to_dict())
    got = await rig.read_rig(TARGET, client=responder)
    assert responder.gets == 1
    assert got.gpus == snapshot.gpus and got.programs == snapshot.programs and (got.ip, got.port) == ("10.0.7.12", 161)


async def test_a_large_rig_takes_a_second_get_and_a_change_between_them_a_new_read():
    big = twelve_gpu_rig(collected_at=1.7e9).to_dict()
    big["gpus"] = big["gpus"] * 3  # 36 cards: 4 chunks
    changed = {**big, "uptime_s": 86_401}
    assert zlib.crc32(layout.snapshot_json(big).encode()) != zlib.crc32(layout.snapshot_json(changed).encode())
    responder = Responder(big, changed, changed, changed)
    got = await rig.read_rig(TARGET, client=responder)
    assert responder.gets == 4 and got.uptime_s == 86_401 and len(got.gpus) == 36


async def test_a_sentry_without_snapshot_or_without_the_mib_is_one_sentence():
    responder = Responder(twelve_gpu_rig(collected_at=1.7e9).to_dict())
    responder.status = 3
    with pytest.raises(ProtocolError, match="the sentry on 10.0.7.12 has no snapshot to serve"):
        await rig.read_rig(TARGET, client=responder)
    responder.status = None
    with pytest.raises(ProtocolError, match="10.0.7.12:161 serves no MINERWATCH-MIB"):
        await rig.read_rig(TARGET, client=responder)


async def test_a_stale_snapshot_is_served_with_a_fault():
    responder = Responder(twelve_gpu_rig(collected_at=1.7e9).to_dict())
    responder.status = 2
    got = await rig.read_rig(TARGET, client=responder)
    assert got.faults[-1].startswith("the sentry's snapshot is") and got.reachable


async def test_poll_rigs_keeps_order_and_turns_failures_into_unreachable_snapshots():
    client = SnmpClient()
    try:
        dead = SnmpTarget("127.0.0.1", 9)  # discard: nothing answers
        got = await rig.poll_rigs([dead, dead], timeout=0.3, retries=0, client=client)
        assert [s.reachable for s in got] == [False, False]
        assert got[0].error == "no SNMP answer from 127.0.0.1:9 (a wrong community gets no answer either)"
        with pytest.raises(DeviceUnreachable):
            await rig.read_rig(dead, timeout=0.3, retries=0, client=client)
    finally:
        client.close()


def test_targets_refuse_incomplete_v3():
    with pytest.raises(ValueError, match="authPriv"):
        SnmpTarget("10.0.7.12", version="3", user="mw", auth_key="x")
    with pytest.raises(ValueError, match="auth protocol"):
        SnmpTarget("10.0.7.12", version="3", user="mw", auth_key="x" * 8, priv_key="y" * 8, auth_protocol="SHA3")
    assert "secret" not in repr(SnmpTarget("10.0.7.12", community="secret"))
