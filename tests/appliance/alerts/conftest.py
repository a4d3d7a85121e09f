"""Real receivers for the alert channels (the HTTP one is in tests/conftest.py): an SMTP server with STARTTLS and AUTH
(aiosmtpd), net-snmp's snmptrapd; and hand-built snapshots that a scripted test changes cycle by cycle."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from collectors.model import Board, Fan, Gpu, MinerProgram, MinerSnapshot, Pool, RigSnapshot
from tests.conftest import REPO, require

STEP_S = 30.0  # seconds between scripted cycles
T0 = 1_714_550_400.0  # 2024-05-01 08:00 UTC


def cycle_time(i: int) -> float:
    return T0 + STEP_S * i


def miner(i: int, ip: str = "10.0.0.5") -> MinerSnapshot:
    """A healthy Antminer S19 Pro at cycle ``i``: its uptime and share counters grow with the cycles."""
    return MinerSnapshot(
        ip=ip, port=4028, make="Bitmain", model="Antminer S19 Pro", reachable=True,
        hashrate_hs=110e12, hashrate_nominal_hs=110e12, uptime_s=10_000 + int(STEP_S) * i,
        boards=[Board(index=b, hashrate_hs=36.6e12, chips=114, chips_expected=114, temp_board_c=62.0,
                      temp_chip_c=75.0, status="ok") for b in range(3)],
        fans=[Fan(index=f, rpm=5000) for f in range(4)],
        pools=[Pool(index=0, url="stratum+tcp://pool.example:3333", user="farm.w1", status="alive", active=True,
                    accepted=1000 + 10 * i, rejected=5),
               Pool(index=1, url="stratum+tcp://backup.example:3333", user="farm.w1", status="alive",
                    active=False, accepted=0, rejected=0)],
        polled_at=cycle_time(i),
    )


def rig(i: int, hostname: str = "rig-01") -> RigSnapshot:
    """A healthy rig read at 10.0.5.7: T-Rex on its GPUs, XMRig on its CPU, lolMiner not running."""
    return RigSnapshot(hostname=hostname, reachable=True, collected_at=cycle_time(i), ip="10.0.5.7", port=161,
                       gpus=[Gpu(bus_id="0000:01:00.0", temp_c=65.0), Gpu(bus_id="0000:02:00.0", temp_c=66.0)],
                       programs=[MinerProgram("trex", api_up=True, hashrate_hs=200e6, port=4067),
                                 MinerProgram("xmrig", api_up=True, hashrate_hs=15e3, port=18088),
                                 MinerProgram("lolminer", port=44444, error="nothing listens on 127.0.0.1:44444")])


# --- an SMTP server with STARTTLS and AUTH ---------------------------------------------------------

def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mailbox:
    port: int
    ca_file: Path
    user: str = "alerts"
    password: str = "s3cret"
    messages: list = field(default_factory=list)  # (envelope, authenticated user, TLS in force)


@pytest.fixture
def smtp_server(tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = self_signed(tmp_path)
    box = Mailbox(port=free_port(), ca_file=cert)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.messages.append((envelope, session.auth_data, session.ssl is not None))
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == box.user.encode() and auth_data.password == box.password.encode()
        # handled=False: aiosmtpd then answers 235 or 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, tls_context=context,
                            require_starttls=True, auth_required=True, authenticator=authenticate)
    controller.start()
    yield box
    controller.stop()


# --- net-snmp's snmptrapd ------------------------------------------------------------------------

@dataclass
class TrapReceiver:
    port: int
    log: Path
    v3_user: str = "mwuser"
    v3_auth_key: str = "authpass123"
    v3_priv_key: str = "privpass123"
    community: str = "farm-traps-7"

    def received(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def snmptrapd(tmp_path):
    binary = shutil.which("snmptrapd") or (Path("/usr/sbin/snmptrapd") if Path("/usr/sbin/snmptrapd").exists()
                                           else None)
    require(binary is not None, "net-snmp's snmptrapd (Debian package snmptrapd)")
    receiver = TrapReceiver(port=free_port(socket.SOCK_DGRAM), log=tmp_path / "traps.log")
    conf = tmp_path / "snmptrapd.conf"
    conf.write_text(
        f"snmpTrapdAddr udp:127.0.0.1:{receiver.port}\n"
        # Only what carries the community or the v3 user is logged: a wrong one is dropped, as an NMS would.
        f"authCommunity log {receiver.community}\n"
        # An inform's receiver is the authoritative engine, so the user needs no engine id here.
        f"createUser {receiver.v3_user} SHA {receiver.v3_auth_key} AES {receiver.v3_priv_key}\n"
        f"authUser log {receiver.v3_user} priv\n")
    mibs = REPO.parent / "shared" / "mibs"
    require(mibs.is_dir(), f"the shared IETF MIBs that MINERWATCH-MIB imports ({mibs})")
    # -f foreground, -C only our conf, -Lf log to a file; MINERWATCH-MIB loaded, as an NMS would, so
    # the log names what the channel sent; the persistent dir keeps snmptrapd's engine boots out of
    # /var/lib/snmp.
    process = subprocess.Popen(
        [str(binary), "-f", "-C", "-c", str(conf), "-Lf", str(receiver.log),
         "-M", f"+{REPO / 'packaging' / 'mibs'}:{mibs}", "-m", "+MINERWATCH-MIB"],
        env={"SNMP_PERSISTENT_DIR": str(tmp_path / "persist"), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if "NET-SNMP version" in receiver.received() or process.poll() is not None:
                break
            threading.Event().wait(0.01)
        assert process.poll() is None, f"snmptrapd exited: {receiver.received()}"
        yield receiver
    finally:
        process.terminate()
        process.wait(timeout=10)
