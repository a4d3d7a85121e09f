"""A 12-GPU rig's snapshot, built by hand so every value in the tests and the bench is known."""

from __future__ import annotations

from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot

# Buses as a real 12-slot board numbers them: not contiguous, and one past 0x0f.
BUSES = (0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x09, 0x0A, 0x0B, 0x0D, 0x0E, 0x11)


def twelve_gpu_rig(collected_at: float, hostname: str = "rig-012") -> RigSnapshot:
    gpus = [
        Gpu(bus_id=f"0000:{bus:02x}:00.0", index=number, vendor="nvidia", name="NVIDIA GeForce RTX 3080",
            hashrate_hs=34_500_000.0 + number * 100_000, temp_c=60.0 + number / 2,
            mem_temp_c=None if number == 3 else 80.5, fan_pct=55.25, fan_rpm=1800 + number,
            power_w=225.4, power_limit_w=240.0, core_clock_mhz=1440, mem_clock_mhz=9500, load_pct=99.0,
            accepted=1000 + number, rejected=number, program="trex", algorithm="kawpow")
        for number, bus in enumerate(BUSES)
    ]
    return RigSnapshot(
        hostname=hostname, collected_at=collected_at, uptime_s=86_400, load_1m=3.25, memory_used_pct=41.5,
        disk_used_pct=12.0, hashrate_by_algorithm_hs={"KawPow": sum(g.hashrate_hs for g in gpus)},
        cpu=Cpu(model="AMD Ryzen 9 5950X 16-Core Processor", threads=32, load_pct=37.5, temp_c=71.2,
                frequency_mhz=3400, hashrate_hs=9_500.0, algorithm="rx/0"),
        gpus=gpus,
        programs=[
            MinerProgram(name="trex", api_up=True, version="0.26.8", algorithm="kawpow",
                         pool="stratum+tcp://rvn.pool.example:3333", user="RWallet.rig012",
                         hashrate_hs=sum(g.hashrate_hs for g in gpus), accepted=12_066, rejected=66,
                         uptime_s=7_200, port=4067),
            MinerProgram(name="xmrig", api_up=False, port=44444,
                         error="no answer from xmrig on 127.0.0.1:44444 within 2 s"),
        ],
        faults=["xmrig's API does not answer"],
    )
