"""The rules over what the real collectors read from an emulated farm: each injected fault fires
its rule on the next poll, nothing fires on a healthy miner, and clearing the faults resolves them."""

from __future__ import annotations

from collections import defaultdict

from appliance.alerts.engine import AlertEngine
from appliance.alerts.rules import RULES
from appliance.alerts.settings import AlertSettings
from collectors.fleet import poll_fleet
from collectors.poll import Poller, PollSettings
from collectors.targets import Target
from simfarm.asic.antminer import Antminer
from simfarm.asic.epic import EpicMiner
from simfarm.farm import Farm
from tests.collectors.test_fleet_farm import credentials_for
from tests.simfarm.conftest import free_base

FAULTS = {  # fault -> the (rule, part) it must fire; None: whatever the firmware numbers it
    "overheating": {("temp_chip", "board:0"), ("temp_board", "board:0")},
    "fan_stopped": {("fan_slow", None)},
    "dead_board": {("board_dead", "board:0")},  # the board stays at its slot, whatever the firmware
    "missing_chips": {("chips_missing", "board:0")},
    "pool_down": {("pool_dead", "")},
    "reboot": {("rebooted", "")},
    "offline": {("offline", "")},
}


async def test_injected_faults_fire_their_rules_and_clearing_them_resolves(tmp_path):
    # No holds, and offline at the first miss: each poll here is a cycle, a second or so apart.
    table = {"rules": {name: {"hold_s": 0} for name in RULES}}
    table["rules"]["offline"]["threshold"] = 1
    engine = AlertEngine(AlertSettings.from_mapping(table, "test").rules, tmp_path / "alerts.json")
    async with Farm(miners=10, mix={"antminer": 1}, base=free_base(), seed=11, web_port=8080) as farm:
        ips = list(farm.miners)
        faulty = dict(zip(ips, FAULTS, strict=False))
        settings = PollSettings(timeout_s=3.0, web_port=farm.web_port, credentials=credentials_for(farm))
        async with Poller(settings) as poller:
            async def cycle(t: float) -> dict[str, set[tuple[str, str, str]]]:
                snapshots = await poll_fleet(poller, [Target(ip) for ip in ips])
                by_device = defaultdict(set)
                for transition in engine.evaluate(t, snapshots):
                    by_device[transition.alert.device].add((transition.kind, transition.alert.rule,
                                                            transition.alert.part))
                return by_device

            assert await cycle(1000.0) == {}, "a healthy farm raised alerts"
            for ip, fault in faulty.items():
                await farm.inject(ip, fault)
            fired = await cycle(1060.0)
            for ip in faulty:
                await farm.clear(ip)
            resolved = await cycle(1120.0)

    def has(seen: set[tuple[str, str, str]], kind: str, rule: str, part: str | None) -> bool:
        return any(k == kind and r == rule and part in (None, p) for k, r, p in seen)

    for ip, fault in faulty.items():
        for rule, part in FAULTS[fault]:
            assert has(fired[ip], "fired", rule, part), f"{ip} with {fault}: {sorted(fired[ip])}"
            if fault != "reboot":  # an event has nothing to resolve
                assert has(resolved[ip], "resolved", rule, part), f"{ip} with {fault}: {sorted(resolved[ip])}"
        # Side effects a real miner has too: a dead board also drops the hashrate.
        assert {rule for _, rule, _ in fired[ip]} - {rule for rule, _ in FAULTS[fault]} <= {"hashrate_low"}, fault
    assert set(fired) == set(faulty), "a healthy miner raised alerts"


class S9(Antminer):
    models = ("Antminer S9",)  # bmminer's legacy stats, where a dead chain used to vanish from the boards


async def test_a_board_down_before_the_first_poll_fires_at_its_slot(tmp_path):
    table = {"rules": {"board_dead": {"hold_s": 0}}}
    engine = AlertEngine(AlertSettings.from_mapping(table, "test").rules, tmp_path / "alerts.json")
    makes = {"antminer": S9, "epic": EpicMiner}
    async with Farm(miners=2, base=free_base(), seed=5, web_port=8080, makes=makes) as farm:
        for ip in farm.miners:
            await farm.inject(ip, "dead_board", board=1)
        settings = PollSettings(timeout_s=3.0, web_port=farm.web_port, credentials=credentials_for(farm))
        async with Poller(settings) as poller:
            snapshots = await poll_fleet(poller, [Target(ip) for ip in farm.miners])
        by_make = {farm.kind[snap.ip]: snap for snap in snapshots}
    # The S9 reports its dead chain with no chips; ePIC disables a board that fails.
    assert [(b.index, b.status) for b in by_make["antminer"].boards] == [(0, "ok"), (1, "dead"), (2, "ok")]
    assert [(b.index, b.status) for b in by_make["epic"].boards] == [(0, "ok"), (1, "disabled"), (2, "ok")]
    fired = {(t.alert.device, t.alert.rule, t.alert.part) for t in engine.evaluate(1000.0, snapshots)}
    assert fired == {(snap.ip, "board_dead", "board:1") for snap in snapshots}
