"""Snapshots for the storage tests, made the way drivers make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collectors.model import Board, ErrorCode, Fan, MinerSnapshot, Pool

T0 = datetime(2026, 11, 1, tzinfo=UTC)
CYCLE = timedelta(seconds=30)


def snapshot(i: int, moment: datetime) -> MinerSnapshot:
    """Miner ``i`` as polled at ``moment``: every 7th is unreachable (only its address)."""
    ip = f"10.0.{i // 256}.{i % 256}"
    if i % 7 == 6:
        return MinerSnapshot(ip=ip, port=4028, reachable=False, error=f"no answer on {ip}:4028 within 3 s",
                             polled_at=moment.timestamp())
    return MinerSnapshot(
        ip=ip, port=4028, make="Bitmain", model="Antminer S19 Pro", firmware="stock", algorithm="SHA256",
        reachable=True, hashrate_hs=110e12 + i, hashrate_nominal_hs=110e12,
        power_w=3250.0, temp_max_c=71.5, uptime_s=3600 + i, accepted=100 + i, rejected=0, hw_errors=None,
        mac=f"aa:bb:cc:00:{i // 256:02x}:{i % 256:02x}", polled_at=moment.timestamp(), latency_ms=42.0,
        boards=[Board(index=b, hashrate_hs=36e12, chips=76, chips_expected=76, temp_chip_c=None, status="ok")
                for b in range(3)],
        fans=[Fan(index=1, rpm=None), Fan(index=0, rpm=5400)],
        pools=[Pool(index=0, url="stratum+tcp://pool.example:3333", user="farm.w1", active=True, accepted=100 + i)],
        errors=[ErrorCode(code="R:1", message="fan slow")] if i % 5 == 0 else [])


def key(i: int) -> str:
    """The device key ``snapshot(i)`` gets when nothing is known about its address."""
    return f"10.0.{i // 256}.{i % 256}" if i % 7 == 6 else f"AA:BB:CC:00:{i // 256:02X}:{i % 256:02X}"
