"""E-mail over SMTP: one plain-text message per transition, with STARTTLS (or implicit TLS) and AUTH.

The standard library's smtplib, run in a worker thread, rather than aiosmtplib: one message a
transition is a trickle, and it saves a dependency. The server's certificate is always verified,
against ``ca_file`` when the farm runs its own CA or a self-signed relay.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from appliance.alerts.channels import DeliveryError
from appliance.alerts.message import Message
from appliance.alerts.settings import ChannelSettings, EmailSettings


class EmailChannel:
    def __init__(self, settings: ChannelSettings) -> None:
        self.name, self.settings = settings.name, settings
        self.options: EmailSettings = settings.options

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.options.sender
        mail["To"] = ", ".join(self.options.to)
        mail["Date"] = formatdate(message.at, localtime=False)
        mail["Message-ID"] = make_msgid("minerwatch")
        mail["X-Minerwatch-Key"] = message.key
        mail.set_content(message.text + "\n")
        return mail

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send, self.compose(message))

    def _send(self, mail: EmailMessage) -> None:
        o, timeout = self.options, self.settings.retry.timeout_s
        context = ssl.create_default_context(cafile=str(o.ca_file) if o.ca_file else None)
        try:
            if o.security == "tls":
                smtp = smtplib.SMTP_SSL(o.host, o.port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(o.host, o.port, timeout=timeout)
            with smtp:
                if o.security == "starttls":
                    smtp.starttls(context=context)
                if o.username:
                    smtp.login(o.username, o.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError(f"email {self.name}: {o.host} refused the login for {o.username}",
                                permanent=True) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError(f"email {self.name}: {o.host} refused every recipient", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email {self.name}: {o.host}:{o.port} did not take the message ({exc})") from exc

    async def aclose(self) -> None:
        """Nothing stays open between messages."""
