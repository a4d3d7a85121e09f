"""The farm's own certificate authority, for mutual TLS between the commander and its ASIC sentries.

``minerwatch pki init`` makes the CA on the commander; ``minerwatch pki issue NAME --for sentry``
(or ``--for commander``) makes a key and a certificate signed by it; ``--for web`` one for the web's
own HTTPS ([web] tls_cert), for browsers told to trust the farm's CA. Nothing is shipped: every key
is generated here, and every private key file is mode 0600 in a directory only its owner enters
(``<state_dir>/pki/``). A sentry trusts clients whose certificate the farm's CA signed and the
commander pins each sentry's certificate by its SHA-256 fingerprint, so a second CA, a stolen
certificate of another sentry, or an expired one is refused.

    <state_dir>/pki/ca.crt, ca.key                the farm's CA (10 years)
    <state_dir>/pki/issued/NAME.crt, NAME.key     a sentry's or the web's (serverAuth), the commander's (clientAuth)

Keys are ECDSA P-256: small, fast to verify, and what every TLS stack speaks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import atomicfile
from appliance.cli_args import state_dir, state_dir_args

CA_DAYS = 3650
LEAF_DAYS = 825  # what browsers and most TLS stacks accept as the longest life of a leaf
ROLES = {"sentry": ExtendedKeyUsageOID.SERVER_AUTH, "commander": ExtendedKeyUsageOID.CLIENT_AUTH,
         "web": ExtendedKeyUsageOID.SERVER_AUTH}  # [web] tls_cert, for browsers that trust the farm CA
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class PkiError(Exception):
    """One sentence: what cannot be done and why."""


@dataclass(frozen=True)
class Issued:
    name: str
    role: str
    cert: Path
    key: Path
    fingerprint: str  # "sha256:" and 64 hex digits, what [[asic_sentries]] pins
    not_after: dt.datetime


def pki_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "pki"


def fingerprint(cert: x509.Certificate) -> str:
    return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()


def init(state_dir: Path, farm: str, now: dt.datetime | None = None) -> Path:
    """The farm's CA; PkiError if there is one already (a new CA would orphan every certificate)."""
    directory = _private_dir(pki_dir(state_dir))
    cert_path = directory / "ca.crt"
    if cert_path.exists():
        raise PkiError(f"{cert_path} exists: this farm has its CA already")
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "minerwatch"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"minerwatch farm CA {farm}"[:64])])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(directory / "ca.key", key)
    atomicfile.replace(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path


def issue(state_dir: Path, name: str, role: str, hosts: list[str], days: int = LEAF_DAYS,
          now: dt.datetime | None = None) -> Issued:
    """A key and a certificate for ``name``; ``hosts`` (names or addresses) are where a sentry is
    reached, checked by the commander as TLS checks any server."""
    if not _NAME.fullmatch(name):
        raise PkiError(f"{name!r} is not a certificate name: letters, digits, '.', '_' and '-', at most 63")
    if role not in ROLES:
        raise PkiError(f"a certificate is for a {' or a '.join(ROLES)}, not a {role!r}")
    if ROLES[role] == ExtendedKeyUsageOID.SERVER_AUTH and not hosts:
        raise PkiError(f"a {role}'s certificate needs --host: the name or address it is reached at")
    directory = pki_dir(state_dir)
    ca_cert, ca_key = _load_ca(directory)
    issued = _private_dir(directory / "issued")
    if (issued / f"{name}.crt").exists():
        raise PkiError(f"{issued / f'{name}.crt'} exists; remove it (and its key) to issue {name} again")
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "minerwatch"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ROLES[role]]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(host) for host in hosts]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(issued / f"{name}.key", key)
    atomicfile.replace(issued / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))
    return _issued(issued / f"{name}.crt")


def issued(state_dir: Path) -> list[Issued]:
    """Every certificate issued here, by name."""
    return [_issued(path) for path in sorted((pki_dir(state_dir) / "issued").glob("*.crt"))]


def _issued(path: Path) -> Issued:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    role = next(role for role, oid in ROLES.items() if oid in usage)
    return Issued(path.stem, role, path, path.with_suffix(".key"), fingerprint(cert), cert.not_valid_after_utc)


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise PkiError(f"{exc.filename} does not exist: run `minerwatch pki init` first") from exc
    except OSError as exc:
        raise PkiError(f"{exc.filename} cannot be read ({exc.strerror})") from exc
    except ValueError as exc:
        raise PkiError(f"the farm's CA in {directory} cannot be loaded ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{directory / 'ca.key'} is not the EC key `minerwatch pki init` makes")
    return cert, key


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _private_dir(path: Path) -> Path:
    atomicfile.make_dirs(path.parent)
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    atomicfile.replace(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), mode=0o600)


# --- minerwatch pki ----------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    pki = subparsers.add_parser("pki", help="the farm's CA: certificates for its ASIC sentries (mutual TLS) "
                                            "and the web's HTTPS")
    actions = pki.add_subparsers(dest="pki_command", metavar="ACTION", required=True)
    init_parser = actions.add_parser("init", help="make the farm's CA (once, on the commander)")
    state_dir_args(init_parser)
    init_parser.set_defaults(func=run_init)
    issue_parser = actions.add_parser("issue", help="a key and certificate for a sentry or for the commander")
    issue_parser.add_argument("name")
    issue_parser.add_argument("--for", dest="role", choices=sorted(ROLES), required=True)
    issue_parser.add_argument("--host", action="append", default=[], metavar="HOST",
                              help="a name or address the sentry is reached at (repeat for more)")
    issue_parser.add_argument("--days", type=int, default=LEAF_DAYS, help=f"validity (default {LEAF_DAYS})")
    state_dir_args(issue_parser)
    issue_parser.set_defaults(func=run_issue)
    list_parser = actions.add_parser("list", help="the certificates issued, their fingerprints and expiry")
    state_dir_args(list_parser)
    list_parser.set_defaults(func=run_list)


def run_init(args: argparse.Namespace) -> int:
    state = state_dir(args)
    if state is None:
        return 2
    try:
        path = init(state, os.uname().nodename)
    except (PkiError, OSError) as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return 1
    print(f"the farm's CA: {path} (its key beside it, mode 0600; keep a copy offline)")
    return 0


def run_issue(args: argparse.Namespace) -> int:
    state = state_dir(args)
    if state is None:
        return 2
    try:
        made = issue(state, args.name, args.role, args.host, args.days)
    except (PkiError, OSError) as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return 1
    print(f"{made.cert}\n{made.key} (mode 0600)\n{pki_dir(state) / 'ca.crt'}\nfingerprint {made.fingerprint}, "
          f"valid until {made.not_after:%Y-%m-%d}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    state = state_dir(args)
    if state is None:
        return 2
    for made in issued(state):
        print(f"{made.name:20} {made.role:9} until {made.not_after:%Y-%m-%d}  {made.fingerprint}")
    return 0
