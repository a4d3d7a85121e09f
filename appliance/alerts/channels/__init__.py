"""Where messages go. A channel sends one message and says, by raising ``DeliveryError``, that it
did not arrive; retry, back-off and queueing are the dispatcher's (``appliance/alerts/dispatch.py``).

Every channel has ``name``, ``settings`` (its ``ChannelSettings``), ``async send(message)`` and
``async aclose()``; ``build`` makes one from its settings.
"""

from __future__ import annotations

from typing import Protocol

from appliance.alerts.message import Message
from appliance.alerts.settings import SEVERITIES, ChannelSettings


class DeliveryError(Exception):
    """One attempt failed; ``permanent`` when trying again cannot help (the receiver refused the payload)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str
    settings: ChannelSettings

    async def send(self, message: Message) -> None: ...

    async def aclose(self) -> None: ...


def wants(settings: ChannelSettings, message: Message) -> bool:
    """Whether the channel takes this message: alerts at or above its ``min_severity``, and every summary."""
    if message.severity is None:
        return True
    return SEVERITIES.index(message.severity) <= SEVERITIES.index(settings.min_severity)


def build(settings: ChannelSettings) -> Channel:
    # Imported here so a farm without SNMP channels never loads pysnmp.
    if settings.kind == "webhook":
        from appliance.alerts.channels.webhook import WebhookChannel
        return WebhookChannel(settings)
    if settings.kind == "email":
        from appliance.alerts.channels.email import EmailChannel
        return EmailChannel(settings)
    from appliance.alerts.channels.snmptrap import SnmpTrapChannel
    return SnmpTrapChannel(settings)
