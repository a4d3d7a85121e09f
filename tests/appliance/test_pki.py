"""The farm's CA and certificates, in real TLS handshakes on loopback: a sentry that trusts the
farm's CA admits the commander's certificate and refuses a client without one, one from another
CA, and an expired one; keys are 0600 in a 0700 directory; the commands say what is wrong in one
sentence."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from appliance.pki import PkiError, fingerprint, init, issue, issued, pki_dir

MINERWATCH = [sys.executable, "-m", "appliance.cli"]


@pytest.fixture
def farm(tmp_path) -> Path:
    init(tmp_path, "test-farm")
    issue(tmp_path, "site-north", "sentry", ["127.0.0.1", "sentry-north.farm"])
    issue(tmp_path, "commander", "commander", [])
    return tmp_path


def server_context(state: Path, name: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki_dir(state) / "issued" / f"{name}.crt", pki_dir(state) / "issued" / f"{name}.key")
    context.load_verify_locations(pki_dir(state) / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED  # a client without a certificate of the farm's CA is refused
    return context


def client_context(ca_state: Path, cert_state: Path | None, name: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki_dir(ca_state) / "ca.crt")
    if name is not None:
        context.load_cert_chain(pki_dir(cert_state) / "issued" / f"{name}.crt",
                                pki_dir(cert_state) / "issued" / f"{name}.key")
    return context


async def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> str:
    """"hello" when the handshake succeeded on both sides and the server's greeting arrived; else
    "refused" and what the client saw (with TLS 1.3 a refused client certificate shows only as the
    connection closing on the client's first read)."""
    greeted = []

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        greeted.append(True)
        writer.write(b"hello\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
    except (ssl.SSLError, ConnectionError) as exc:
        return f"refused: {exc}"
    finally:
        listener.close()
    return "hello" if greeted and line == b"hello\n" else f"refused: read {line!r}, server greeted: {bool(greeted)}"


async def test_the_sentry_admits_the_farms_commander_only(farm, tmp_path_factory):
    server = server_context(farm, "site-north")
    assert await handshake(server, client_context(farm, farm, "commander")) == "hello"
    # TLS 1.3 tells the client of a refused certificate only on its first read.
    assert (await handshake(server, client_context(farm, None, None))).startswith("refused")
    other = tmp_path_factory.mktemp("other-farm")
    init(other, "other")
    issue(other, "commander", "commander", [])
    assert (await handshake(server, client_context(farm, other, "commander"))).startswith("refused")
    expired = tmp_path_factory.mktemp("expired")
    (pki_dir(expired)).mkdir()
    for name in ("ca.crt", "ca.key"):
        (pki_dir(expired) / name).write_bytes((pki_dir(farm) / name).read_bytes())
    issue(expired, "commander", "commander", [], days=1, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    assert (await handshake(server, client_context(farm, expired, "commander"))).startswith("refused")


async def test_the_commander_checks_the_sentrys_name_and_its_pinned_fingerprint(farm):
    client = client_context(farm, farm, "commander")
    assert await handshake(server_context(farm, "site-north"), client) == "hello"
    pinned = issued(farm)[1]
    assert pinned.name == "site-north" and pinned.fingerprint == fingerprint(
        x509.load_pem_x509_certificate(pinned.cert.read_bytes()))
    # A commander's certificate is no server's, even for the right address: the role is in it.
    issue(farm, "impostor", "commander", ["127.0.0.1"])
    refused = await handshake(server_context(farm, "impostor"), client)
    assert refused.startswith("refused") and "unsuitable certificate purpose" in refused


def test_keys_are_private_and_nothing_is_made_twice(farm):
    assert pki_dir(farm).stat().st_mode & 0o777 == 0o700
    for key in [pki_dir(farm) / "ca.key", *(made.key for made in issued(farm))]:
        assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(PkiError, match="this farm has its CA already"):
        init(farm, "again")
    with pytest.raises(PkiError, match="remove it"):
        issue(farm, "site-north", "sentry", ["127.0.0.1"])
    with pytest.raises(PkiError, match="needs --host"):
        issue(farm, "site-south", "sentry", [])
    with pytest.raises(PkiError, match="not a certificate name"):
        issue(farm, "../evil", "sentry", ["127.0.0.1"])


def test_the_commands(tmp_path):
    def pki(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*MINERWATCH, "pki", *args, "--state-dir", str(tmp_path)], capture_output=True,
                              text=True, timeout=60)

    early = pki("issue", "site-north", "--for", "sentry", "--host", "10.1.0.2")
    assert (early.returncode, early.stderr) == (
        1, f"minerwatch: {pki_dir(tmp_path) / 'ca.crt'} does not exist: run `minerwatch pki init` first\n")
    assert pki("init").returncode == 0
    made = pki("issue", "site-north", "--for", "sentry", "--host", "10.1.0.2")
    assert made.returncode == 0 and "fingerprint sha256:" in made.stdout
    listed = pki("list").stdout.split()
    assert listed[:2] == ["site-north", "sentry"] and listed[-1].startswith("sha256:")
