"""Each channel against a real receiver: a local HTTP server (generic JSON and the Slack, Discord
and Telegram shapes), aiosmtpd with STARTTLS and AUTH, net-snmp's snmptrapd (v2c trap, v3 inform)."""

from __future__ import annotations

import pytest

from appliance.alerts.channels import DeliveryError
from appliance.alerts.channels.email import EmailChannel
from appliance.alerts.channels.snmptrap import SnmpTrapChannel, varbinds
from appliance.alerts.channels.webhook import WebhookChannel
from appliance.alerts.engine import Alert, Transition
from appliance.alerts.message import Message, from_transition
from appliance.alerts.settings import ChannelSettings
from tests.appliance.alerts.conftest import T0


def fired(value: float = 97.5) -> Message:
    alert = Alert(id="10.0.0.5/temp_chip/board:1", device="10.0.0.5", rule="temp_chip", part="board:1",
                  severity="critical", state="firing", since=T0 - 60, seen_at=T0, value=value, threshold=90,
                  message=f"chip temperature on board 1 is {value} °C (limit 90 °C)", fired_at=T0)
    return from_transition(Transition("fired", alert, T0))


def channel(table: dict, secrets: dict | None = None) -> ChannelSettings:
    return ChannelSettings.from_mapping({"name": "test", **table}, "test.toml [[channels]]", secrets)


async def test_generic_webhook_posts_the_message_as_json(receiver):
    hook = WebhookChannel(channel({"type": "webhook", "url": receiver.url + "/hook",
                                   "headers": {"X-Farm": "north"}}, {"token": "t0ken"}))
    await hook.send(fired())
    await hook.aclose()
    (request,) = receiver.requests
    body = request["json"]
    assert request["path"] == "/hook" and request["headers"]["X-Farm"] == "north"
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert body["kind"] == "fired" and body["device"] == "10.0.0.5" and body["rule"] == "temp_chip"
    assert body["value"] == 97.5 and body["threshold"] == 90 and body["severity"] == "critical"
    assert body["key"] == f"10.0.0.5/temp_chip/board:1@{T0:.0f}/fired" and body["time"] == "2024-05-01T08:00:00Z"


async def test_slack_preset_sends_text_and_blocks(receiver):
    hook = WebhookChannel(channel({"type": "webhook", "preset": "slack"}, {"url": receiver.url + "/services/T/B/X"}))
    await hook.send(fired())
    await hook.aclose()
    body = receiver.requests[0]["json"]
    assert body["text"].startswith("[FIRED] critical: chip temperature high on 10.0.0.5 board:1")
    assert [block["type"] for block in body["blocks"]] == ["header", "section", "context"]
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    assert body["blocks"][1]["text"]["type"] == "mrkdwn" and "Value:     97.5 °C" in body["blocks"][1]["text"]["text"]


async def test_discord_preset_sends_one_embed(receiver):
    hook = WebhookChannel(channel({"type": "webhook", "preset": "discord"},
                                  {"url": receiver.url + "/api/webhooks/1/x"}))
    await hook.send(fired())
    await hook.aclose()
    body = receiver.requests[0]["json"]
    (embed,) = body["embeds"]
    assert "content" not in body and len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert embed["color"] == 0xD32F2F and embed["timestamp"] == "2024-05-01T08:00:00Z"
    assert {f["name"]: f["value"] for f in embed["fields"]} == {"Device": "10.0.0.5", "Rule": "temp_chip",
                                                                "Severity": "critical"}


async def test_telegram_preset_calls_send_message_with_the_chat(receiver):
    hook = WebhookChannel(channel({"type": "webhook", "preset": "telegram", "url": receiver.url, "chat_id": -1001234},
                                  {"token": "123:ABC"}))
    await hook.send(fired())
    await hook.aclose()
    request = receiver.requests[0]
    assert request["path"] == "/bot123:ABC/sendMessage"
    assert request["json"]["chat_id"] == "-1001234" and request["json"]["text"].startswith("[FIRED]")
    assert "Authorization" not in request["headers"]


async def test_a_refused_payload_is_permanent_and_a_busy_receiver_is_not(receiver):
    hook = WebhookChannel(channel({"type": "webhook", "url": receiver.url}, {"token": "t0ken"}))
    receiver.fail_first, receiver.fail_status = 1, 400
    with pytest.raises(DeliveryError, match="answered HTTP 400") as refused:
        await hook.send(fired())
    receiver.fail_first, receiver.fail_status = 2, 429
    with pytest.raises(DeliveryError) as busy:
        await hook.send(fired())
    await hook.aclose()
    assert refused.value.permanent and not busy.value.permanent
    assert receiver.url not in str(busy.value)


async def test_email_goes_through_starttls_and_auth(smtp_server):
    mail = EmailChannel(channel(
        {"type": "email", "host": "127.0.0.1", "port": smtp_server.port, "from": "minerwatch@farm.example",
         "to": ["ops@farm.example", "night@farm.example"], "username": smtp_server.user,
         "ca_file": str(smtp_server.ca_file)}, {"password": smtp_server.password}))
    await mail.send(fired())
    ((envelope, user, tls),) = smtp_server.messages
    text = envelope.content.decode()
    assert tls and user == smtp_server.user
    assert envelope.mail_from == "minerwatch@farm.example"
    assert envelope.rcpt_tos == ["ops@farm.example", "night@farm.example"]
    assert "Subject: [FIRED] critical: chip temperature high on 10.0.0.5 board:1" in text
    for line in ("Device:    10.0.0.5 (board:1)", "Rule:      temp_chip (critical)", "Value:     97.5",
                 "Threshold: 90", "Time:      2024-05-01T08:00:00Z"):
        assert line in text


async def test_email_with_a_wrong_password_gives_up_in_one_sentence(smtp_server):
    mail = EmailChannel(channel(
        {"type": "email", "host": "127.0.0.1", "port": smtp_server.port, "from": "minerwatch@farm.example",
         "to": ["ops@farm.example"], "username": smtp_server.user, "ca_file": str(smtp_server.ca_file)},
        {"password": "wrong"}))
    with pytest.raises(DeliveryError, match="refused the login for alerts") as refused:
        await mail.send(fired())
    assert refused.value.permanent and "wrong" not in str(refused.value)
    assert smtp_server.messages == []


def resolved() -> Message:
    alert = Alert(id="10.0.0.5/temp_chip/board:1", device="10.0.0.5", rule="temp_chip", part="board:1",
                  severity="critical", state="firing", since=T0 - 60, seen_at=T0 + 120, value=82.0, threshold=90,
                  message="chip temperature on board 1 is 82.0 °C (limit 90 °C)", fired_at=T0)
    return from_transition(Transition("resolved", alert, T0 + 120))


def traps(log: str) -> list[dict[str, str]]:
    """Each notification in snmptrapd's log as {varbind as the MIBs name it: "TYPE: value"}."""
    return [dict(varbind.split(" = ", 1) for varbind in block.split("\n")[1].split("\t"))
            for block in log.split("[UDP: ")[1:]]


# What an NMS with MINERWATCH-MIB loaded shows: every object by name, severity by its MIB label.
EXPECTED_VARBINDS = {
    "SNMPv2-MIB::snmpTrapOID.0": "OID: MINERWATCH-MIB::mwAlertFiring",
    "MINERWATCH-MIB::mwAlertDevice.0": "STRING: 10.0.0.5",
    "MINERWATCH-MIB::mwAlertRule.0": "STRING: temp_chip",
    "MINERWATCH-MIB::mwAlertSeverity.0": "INTEGER: critical(3)",
    "MINERWATCH-MIB::mwAlertValue.0": "STRING: 97.5 C",
    "MINERWATCH-MIB::mwAlertMessage.0": "STRING: chip temperature on board 1 is 97.5 C (limit 90 C)",
    "MINERWATCH-MIB::mwAlertId.0": "STRING: 10.0.0.5/temp_chip/board:1",
    "MINERWATCH-MIB::mwAlertPart.0": "STRING: board:1",
    "MINERWATCH-MIB::mwAlertThreshold.0": "STRING: 90 C",
    "MINERWATCH-MIB::mwAlertTime.0": "STRING: 2024-5-1,8:0:0.0,+0:0",  # DateAndTime, UTC
}
EXPECTED_RESOLVED = EXPECTED_VARBINDS | {
    "SNMPv2-MIB::snmpTrapOID.0": "OID: MINERWATCH-MIB::mwAlertResolved",
    "MINERWATCH-MIB::mwAlertValue.0": "STRING: 82 C",
    "MINERWATCH-MIB::mwAlertMessage.0": "STRING: chip temperature on board 1 is 82.0 C (limit 90 C)",
    "MINERWATCH-MIB::mwAlertTime.0": "STRING: 2024-5-1,8:2:0.0,+0:0",
}


@pytest.mark.parametrize("version", ["2c", "3"], ids=["v2c-trap", "v3-inform"])
async def test_snmp_notifications_reach_snmptrapd_and_translate_with_the_mib(snmptrapd, version):
    from tests.conftest import until
    table = {"type": "snmp", "host": "127.0.0.1", "port": snmptrapd.port, "version": version}
    secrets = {"community": snmptrapd.community}
    if version == "3":
        table["user"] = snmptrapd.v3_user
        secrets = {"auth_key": snmptrapd.v3_auth_key, "priv_key": snmptrapd.v3_priv_key}
    nms = SnmpTrapChannel(channel(table, secrets))
    assert nms.options.notify == ("inform" if version == "3" else "trap")
    await nms.send(fired())
    await nms.send(resolved())
    await nms.aclose()
    await until(lambda: snmptrapd.received().count("[UDP: ") == 2, "the notifications' arrival")
    firing, cleared = traps(snmptrapd.received())
    for trap in (firing, cleared):
        assert trap.pop("DISMAN-EVENT-MIB::sysUpTimeInstance").startswith("Timeticks: ")
    assert firing == EXPECTED_VARBINDS
    assert cleared == EXPECTED_RESOLVED


async def test_a_trap_with_a_wrong_community_is_dropped_by_the_receiver(snmptrapd):
    from tests.conftest import until
    good = SnmpTrapChannel(channel({"type": "snmp", "host": "127.0.0.1", "port": snmptrapd.port},
                                   {"community": snmptrapd.community}))
    wrong = SnmpTrapChannel(channel({"type": "snmp", "host": "127.0.0.1", "port": snmptrapd.port},
                                    {"community": "public"}))
    await wrong.send(fired())
    await good.send(resolved())
    for nms in (good, wrong):
        await nms.aclose()
    await until(lambda: snmptrapd.received().count("[UDP: ") >= 1, "the good notification's arrival")
    [cleared] = traps(snmptrapd.received())
    assert cleared["SNMPv2-MIB::snmpTrapOID.0"] == EXPECTED_RESOLVED["SNMPv2-MIB::snmpTrapOID.0"]


def test_base_oid_moves_the_notification_and_its_objects():
    moved = varbinds(fired(), "1.3.6.1.4.1.99999.1", uptime_s=0)
    assert str(moved[1][1]) == "1.3.6.1.4.1.99999.1.0.1"  # snmpTrapOID.0 = mwAlertFiring
    assert [name for name, _ in moved[2:]] == [f"1.3.6.1.4.1.99999.1.3.{n}.0" for n in range(1, 10)]


async def test_an_inform_nobody_acknowledges_is_a_delivery_error(snmptrapd):
    table = {"type": "snmp", "host": "127.0.0.1", "port": snmptrapd.port, "version": "3", "user": "stranger",
             "timeout_s": 1}
    nms = SnmpTrapChannel(channel(table, {"auth_key": "nobody-knows", "priv_key": "nobody-knows"}))
    with pytest.raises(DeliveryError, match="did not acknowledge the inform"):
        await nms.send(fired())
    await nms.aclose()
