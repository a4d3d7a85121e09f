"""Webhooks: one HTTP POST of JSON per message, in the receiver's own shape.

Presets (``preset`` in the channel's table):

- ``generic``: the message's fields as they are (``Message.to_dict``) plus ``source`` and ``time``
  (ISO 8601 UTC); ``key`` lets a receiver drop a retried duplicate.
- ``slack``: an incoming webhook: ``text`` (the notification's fallback) and ``blocks`` (a ``header``,
  a ``section`` of mrkdwn, a ``context`` line). Slack treats ``& < >`` as markup, so they are escaped.
- ``discord``: execute-webhook with one embed (``title`` ≤ 256, ``description`` ≤ 4096 characters,
  ``color`` by severity, ``timestamp``, ``fields``); no ``content``, which would repeat the title.
- ``telegram``: the Bot API's ``sendMessage`` at ``<url>/bot<token>/sendMessage`` with ``chat_id`` and
  ``text`` (≤ 4096 characters), plain text so nothing needs escaping.

A 2xx is delivered; a 408, 429 or 5xx, or no answer, is retried; any other 4xx means the receiver
will never take this payload and is not. Errors never quote the URL: it holds the credential.
"""

from __future__ import annotations

from typing import Any

import httpx

from appliance.alerts.channels import DeliveryError
from appliance.alerts.message import Message, iso
from appliance.alerts.settings import ChannelSettings, WebhookSettings

_COLOURS = {"critical": 0xD32F2F, "warning": 0xF9A825, "info": 0x1976D2, "resolved": 0x2E7D32}
_RETRIED = {408, 429}


def generic(message: Message, options: WebhookSettings) -> dict[str, Any]:
    return {**message.to_dict(), "source": "minerwatch", "time": iso(message.at)}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(message: Message, options: WebhookSettings) -> dict[str, Any]:
    return {
        "text": message.subject,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "```" + _slack_escape(message.text)[:2900] + "```"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"minerwatch · {iso(message.at)}"}]},
        ],
    }


def discord(message: Message, options: WebhookSettings) -> dict[str, Any]:
    colour = _COLOURS["resolved" if message.kind == "resolved" else message.severity or "info"]
    embed: dict[str, Any] = {"title": message.subject[:256], "description": message.text[:4096],
                             "color": colour, "timestamp": iso(message.at)}
    if message.device:
        embed["fields"] = [{"name": "Device", "value": message.device, "inline": True},
                           {"name": "Rule", "value": message.rule, "inline": True},
                           {"name": "Severity", "value": message.severity, "inline": True}]
    return {"username": "minerwatch", "embeds": [embed]}


def telegram(message: Message, options: WebhookSettings) -> dict[str, Any]:
    return {"chat_id": options.chat_id, "text": f"{message.subject}\n\n{message.text}"[:4096],
            "disable_web_page_preview": True}


PRESETS = {"generic": generic, "slack": slack, "discord": discord, "telegram": telegram}


class WebhookChannel:
    def __init__(self, settings: ChannelSettings) -> None:
        self.name, self.settings = settings.name, settings
        self.options: WebhookSettings = settings.options
        headers = dict(self.options.headers)
        if self.options.token and self.options.preset != "telegram":
            headers["Authorization"] = f"Bearer {self.options.token}"
        self._client = httpx.AsyncClient(timeout=settings.retry.timeout_s, headers=headers)

    def _url(self) -> str:
        if self.options.preset == "telegram":
            return f"{self.options.url.rstrip('/')}/bot{self.options.token}/sendMessage"
        return self.options.url

    async def send(self, message: Message) -> None:
        body = PRESETS[self.options.preset](message, self.options)
        try:
            response = await self._client.post(self._url(), json=body)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.name}: the receiver did not answer ({type(exc).__name__})") from None
        if response.is_success:
            return
        status = response.status_code
        permanent = 400 <= status < 500 and status not in _RETRIED
        raise DeliveryError(f"webhook {self.name}: the receiver answered HTTP {status}", permanent=permanent)

    async def aclose(self) -> None:
        await self._client.aclose()
