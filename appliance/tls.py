"""Server-side TLS from a certificate and key file (the web's HTTPS, the ASIC sentry's mutual TLS):
one sentence naming the file that cannot be read or used, never ssl's own, which names none."""

from __future__ import annotations

import ssl


class TlsFilesError(Exception):
    """A certificate, key or CA file that cannot be used; the message names it."""


def server_context(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """TLS 1.2 or later with ``cert`` and ``key``; with ``client_ca``, only clients bearing a
    certificate it signed are served (mutual TLS)."""
    files = [("certificate", cert), ("key", key)] + ([("farm CA's certificate", client_ca)] if client_ca else [])
    for what, path in files:
        try:
            open(path, "rb").close()
        except OSError as exc:
            raise TlsFilesError(f"the {what} {path} cannot be read ({exc.strerror})") from exc
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
        if client_ca:
            context.load_verify_locations(client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
    except ssl.SSLError as exc:
        named = f"the certificate {cert}, its key {key}" + (f" or the farm CA's certificate {client_ca}" if client_ca
                                                             else "")
        raise TlsFilesError(f"{named} cannot be used ({exc.reason or exc})") from exc
    return context
