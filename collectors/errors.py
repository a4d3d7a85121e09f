"""The only exceptions that leave a transport or a driver.

Each carries one sentence a person understands, naming the device; it becomes the
snapshot's ``error``. Raise them ``from`` the cause so a debug log keeps the detail.
"""


class CollectorError(Exception):
    """Base of every error a poll can end with."""


class DeviceUnreachable(CollectorError):
    """Nothing answered in time: refused, timed out, reset, no route."""


class NoAnswer(DeviceUnreachable):
    """The device accepted the connection but said nothing in time (hung, or another protocol
    that waits for the client to speak first, such as HTTP)."""


class AuthFailed(CollectorError):
    """The device answered but refused the credentials."""


class ProtocolError(CollectorError):
    """The device answered, but not in a form we can read."""


class UnsupportedFirmware(CollectorError):
    """The device answered as a miner, but as none that a driver knows."""
