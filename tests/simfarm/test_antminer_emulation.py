"""Bitmain stock emulation over real sockets: layouts, defects, dialects, Digest auth."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from collectors.transport.decode import decode
from simfarm.farm import Farm
from tests.conftest import until
from tests.simfarm.conftest import decode_rpc, exchange, free_base, repair_bmminer


@pytest.fixture
async def every_model():
    """One miner of every emulated Antminer model (the seed is searched for one that has them all)."""
    from simfarm.asic.antminer import MODELS
    for seed in range(100):
        candidate = Farm(miners=24, mix={"antminer": 1}, base=free_base(), seed=seed, web_port=8080)
        if {row["model"] for row in candidate.inventory()} == set(MODELS):
            break
    async with candidate as farm:
        yield {row["model"]: row for row in farm.inventory()}


async def test_every_reply_parses_strictly_after_the_named_repair(every_model):
    for model, row in every_model.items():
        for command in ("version", "summary", "stats", "pools", "summary+stats+pools+version"):
            raw = await exchange(row["ip"], 4028, json.dumps({"command": command}).encode())
            assert raw.endswith(b"\0")
            text = raw[:-1].decode()
            names = command.split("+")
            needs_repair = ("stats" in names and "stats_missing_comma" in row["quirks"]) or (
                {"stats", "version"} & set(names) and "type_raw_newline" in row["quirks"])
            if needs_repair:
                with pytest.raises(ValueError):
                    json.loads(text)
            reply = json.loads(repair_bmminer(text) if needs_repair else text)
            assert reply["id"] == 1, (model, command)
            assert decode(raw, row["ip"]) == reply  # the collectors' decoder reads it the same


async def test_s9_stats_carry_the_real_defects(every_model):
    row = every_model["Antminer S9"]
    raw = await exchange(row["ip"], 4028, b'{"command":"stats"}')
    assert b'"Type":"Antminer S9\nV1.3.58"}{"STATS":0' in raw  # raw newline, no comma
    stats = decode_rpc(raw)
    head, body = stats["STATS"]
    assert stats["STATUS"][0]["Msg"] == "BMMiner stats"
    assert [body[f"chain_acn{n}"] for n in (6, 7, 8)] == row["chips_expected"]
    assert body["chain_acn1"] == 0 and body["chain_rate1"] == ""
    assert isinstance(body["GHS 5s"], str)
    assert body["total_rateideal"] == pytest.approx(row["hashrate_nominal_hs"] / 1e9)
    assert [body["fan5"] > 0, body["fan6"] > 0, body["fan1"]] == [True, True, 0]


async def test_l3plus_reports_mhs_under_ghs_keys(every_model, rpc):
    row = every_model["Antminer L3+"]
    stats = await rpc(row["ip"], "stats")
    body = stats["STATS"][1]
    assert float(body["GHS 5s"]) == pytest.approx(row["hashrate_nominal_hs"] / 1e6, rel=0.035)
    assert "temp31" in body and "temp3_1" not in body
    assert body["frequency"] == "384"


async def test_s19_legacy_stats(every_model, rpc):
    row = every_model["Antminer S19 Pro"]
    body = (await rpc(row["ip"], "stats"))["STATS"][1]
    assert body["rate_unit"] == "GH"
    assert body["total_rateideal"] == pytest.approx(110_000)
    assert body["temp_chip4"] == "0-0-0-0"
    assert len(body["temp_chip1"].split("-")) == 4
    assert body["chain_acn1"] == 114 and body["freq1"] == 525
    rates = [float(body[f"chain_rate{n}"]) for n in (1, 2, 3)]
    assert sum(rates) == pytest.approx(110_000, rel=0.035)


async def test_s19_new_api_stats_and_summary(every_model, rpc):
    row = every_model["Antminer S21"]
    stats = await rpc(row["ip"], "stats", parameter={"new_api": True})
    assert stats["STATUS"]["STATUS"] == "S" and stats["INFO"]["type"] == "Antminer S21"
    data = stats["STATS"][0]
    assert data["rate_unit"] == "GH/s" and data["rate_ideal"] == pytest.approx(200_000)
    assert [c["index"] for c in data["chain"]] == [0, 1, 2]
    assert [c["asic_num"] for c in data["chain"]] == row["chips_expected"]
    assert len(data["fan"]) == row["fans"] and all(rpm > 0 for rpm in data["fan"])
    chain = data["chain"][0]
    assert {"freq_avg", "rate_real", "rate_ideal", "temp_pcb", "temp_chip", "temp_pic", "hw", "sn"} <= set(chain)
    summary = await rpc(row["ip"], "summary", parameter={"new_api": True})
    assert {s["type"] for s in summary["SUMMARY"][0]["status"]} == {"rate", "network", "fans", "temp"}
    # The old S9 ignores new_api and answers its own dialect.
    old = await rpc(every_model["Antminer S9"]["ip"], "stats", parameter={"new_api": True})
    assert isinstance(old["STATUS"], list)


async def test_multi_command_nests_each_reply(every_model, rpc):
    row = every_model["Antminer S19 XP"]
    reply = await rpc(row["ip"], "summary+stats+pools+version")
    assert set(reply) == {"summary", "stats", "pools", "version", "id"}
    assert reply["version"][0]["VERSION"][0]["Type"] == "Antminer S19 XP"
    assert len(reply["pools"][0]["POOLS"]) == row["pools"]
    assert reply["summary"][0]["SUMMARY"][0]["Elapsed"] > 0


async def test_unknown_command_and_bad_json(farm, rpc):
    ip = farm.inventory()[0]["ip"]
    error = await rpc(ip, "bogus")
    assert error["STATUS"][0]["STATUS"] == "E" and error["STATUS"][0]["Code"] == 14
    raw = await exchange(ip, 4028, b'{"command": nope}')
    assert decode_rpc(raw)["STATUS"][0]["Code"] == 23


async def test_request_arriving_in_pieces(farm):
    ip = farm.inventory()[0]["ip"]
    reader, writer = await asyncio.open_connection(ip, 4028)
    writer.write(b'{"comm')
    await writer.drain()
    # The second half goes out only once the device holds the first, so the two are read apart.
    await until(lambda: any(getattr(t.get_protocol(), "buffer", None) == b'{"comm' for t in farm.connections.open),
                "the first half of the request at the device")
    writer.write(b'and":"version"}\n')
    raw = await asyncio.wait_for(reader.read(), 5)  # read() returning means the device closed
    writer.close()
    assert "VERSION" in decode_rpc(raw)


async def test_web_digest_auth(every_model):
    row = every_model["Antminer S19 Pro"]
    url = f"http://{row['ip']}:{row['ports']['web']}"
    async with httpx.AsyncClient(timeout=5) as client:
        bare = await client.get(url + "/")
        assert bare.status_code == 401
        assert bare.headers["www-authenticate"].startswith('Digest realm="antMiner Configuration"')
        wrong = await client.get(url + "/cgi-bin/get_system_info.cgi", auth=httpx.DigestAuth("root", "nope"))
        assert wrong.status_code == 401
        auth = httpx.DigestAuth(row["web_user"], row["web_password"])
        info = (await client.get(url + "/cgi-bin/get_system_info.cgi", auth=auth)).json()
        assert (info["minertype"], info["macaddr"], info["serinum"], info["hostname"]) == (
            row["model"], row["mac"], row["serial"], row["hostname"])
        stats = (await client.get(url + "/cgi-bin/stats.cgi", auth=auth)).json()
        assert len(stats["STATS"][0]["chain"]) == row["boards"]
        assert (await client.get(url + "/cgi-bin/summary.cgi", auth=auth)).json()["SUMMARY"]
        assert len((await client.get(url + "/cgi-bin/pools.cgi", auth=auth)).json()["POOLS"]) == row["pools"]
        assert (await client.get(url + "/cgi-bin/get_blink_status.cgi", auth=auth)).json() == {"blink": False}
        assert (await client.get(url + "/cgi-bin/nothing.cgi", auth=auth)).status_code == 404


async def test_web_keeps_the_connection_alive(farm, pick):
    row = pick(farm, new_api=True)
    request = (f"GET /cgi-bin/get_blink_status.cgi HTTP/1.1\r\nHost: {row['ip']}\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection(row["ip"], row["ports"]["web"])
    for _ in range(2):  # two requests on one connection: both answered (401, no credentials)
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 401")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")))
        await reader.readexactly(length)
    writer.close()


async def test_old_web_ui_has_no_json_pages(every_model):
    row = every_model["Antminer S9"]
    url = f"http://{row['ip']}:{row['ports']['web']}"
    auth = httpx.DigestAuth("root", "root")
    async with httpx.AsyncClient(timeout=5, auth=auth) as client:
        assert (await client.get(url + "/cgi-bin/get_blink_status.cgi")).json() == {"isBlinking": False}
        assert (await client.get(url + "/cgi-bin/stats.cgi")).status_code == 404
        assert "serinum" not in (await client.get(url + "/cgi-bin/get_system_info.cgi")).json()


async def test_per_device_password(farm, pick):
    row = pick(farm)
    farm.miners[row["ip"]].web_password = "s3cret"
    url = f"http://{row['ip']}:{row['ports']['web']}/cgi-bin/get_system_info.cgi"
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(url, auth=httpx.DigestAuth("root", "root"))).status_code == 401
        assert (await client.get(url, auth=httpx.DigestAuth("root", "s3cret"))).status_code == 200
