"""The web's users and API tokens, kept in ``<state_dir>/web/users.json`` and ``tokens.json``.

Passwords are hashed with Argon2id (argon2-cffi's defaults: 64 MiB, 3 passes): slow and
memory-hard, so a stolen users.json costs an attacker a GPU-hour per few thousand guesses, salted
per user, and the hash says its own parameters, so stronger ones later still verify old hashes.
A password is only ever generated (``new_password``), printed once, and never stored in clear.

An API token is 32 random bytes; only its SHA-256 is kept. A slow hash would buy nothing here:
the token is random, not a word a person chose, and every API request checks one.

Roles rank viewer < operator < admin; a route asks for the least role it needs.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import with_config

from appliance.config import ROLES, Web
from appliance.damaged import STRICT
from web.files import JsonFile, web_dir, write_secret

log = logging.getLogger(__name__)
RANK = {"viewer": 0, "operator": 1, "admin": 2}
assert set(RANK) == set(ROLES)
INITIAL_ADMIN_FILE = "initial-admin-password"
_HASHER = PasswordHasher()
# Verified when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class UserError(Exception):
    """A change to the users or tokens that cannot be made; one sentence."""


@with_config(STRICT)
@dataclass
class User:
    role: str
    password_hash: str | None = None  # None: cannot log in until given a password
    created_at: float = field(default_factory=time.time)


@with_config(STRICT)
@dataclass
class Token:
    role: str
    sha256: str
    created_at: float = field(default_factory=time.time)


@with_config(STRICT)
@dataclass
class _UsersFile:
    version: int = 1
    users: dict[str, User] = field(default_factory=dict)


@with_config(STRICT)
@dataclass
class _TokensFile:
    version: int = 1
    tokens: dict[str, Token] = field(default_factory=dict)


def new_password() -> str:
    return secrets.token_urlsafe(18)  # 144 bits: no guessing, and typeable once from a terminal


def fingerprint(password_hash: str | None) -> str:
    """What a session remembers of the password it was opened with: a new password ends it."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    """The users and tokens of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = web_dir(state_dir)
        self._users = JsonFile(self.dir / "users.json", _UsersFile, _UsersFile)
        self._tokens = JsonFile(self.dir / "tokens.json", _TokensFile, _TokensFile)

    # --- reading -------------------------------------------------------------------------------

    def all(self) -> dict[str, User]:
        return self._users.read().users

    def get(self, name: str) -> User | None:
        return self.all().get(name)

    def tokens(self) -> dict[str, Token]:
        return self._tokens.read().tokens

    def check_password(self, name: str, password: str) -> User | None:
        """The user, when ``password`` is theirs; None otherwise (unknown name, no password, wrong one)."""
        user = self.get(name)
        try:
            _HASHER.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return user if user and user.password_hash else None

    def check_token(self, token: str) -> tuple[str, Token] | None:
        digest = _token_hash(token)
        for name, entry in self.tokens().items():
            if secrets.compare_digest(entry.sha256, digest):
                return name, entry
        return None

    # --- changing ------------------------------------------------------------------------------

    def add(self, name: str, role: str) -> str:
        """A new user with a generated password, which is returned (and kept nowhere in clear)."""
        password = new_password()
        with self._users.update() as data:
            if name in data.users:
                raise UserError(f"user {name} already exists; `minerwatch user passwd {name}` gives a new password")
            data.users[name] = User(role, _HASHER.hash(password))
        return password

    def passwd(self, name: str) -> str:
        """A new generated password for ``name``, returned; the sessions it had end."""
        password = new_password()
        with self._users.update() as data:
            if name not in data.users:
                raise UserError(f"there is no user {name}; `minerwatch user add {name} --role ROLE` makes one")
            data.users[name].password_hash = _HASHER.hash(password)
        return password

    def create_token(self, name: str, role: str) -> str:
        token = "mw_" + secrets.token_urlsafe(32)
        with self._tokens.update() as data:
            if name in data.tokens:
                raise UserError(f"a token named {name} already exists")
            data.tokens[name] = Token(role, _token_hash(token))
        return token

    def revoke_token(self, name: str) -> None:
        with self._tokens.update() as data:
            if data.tokens.pop(name, None) is None:
                raise UserError(f"there is no token named {name}")

    def seed(self, web: Web) -> tuple[list[str], tuple[str, Path] | None]:
        """Create the users [web] lists that do not exist yet (with their configured password hash,
        or none), then, when no admin can log in, give the first admin (or a new "admin") a
        generated password, written to ``initial-admin-password``. Returns the users created, and
        that admin and the file when it was written."""
        created, initial = [], None
        with self._users.update() as data:
            for user in web.users:
                if user.name not in data.users:
                    data.users[user.name] = User(user.role, user.password_hash)  # an Argon2 hash: config checked it
                    created.append(user.name)
            admins = [name for name, user in data.users.items() if user.role == "admin"]
            if not any(data.users[name].password_hash for name in admins):
                initial = (admins[0] if admins else "admin", new_password())
                if initial[0] not in data.users:
                    data.users[initial[0]] = User("admin")
                    created.append(initial[0])
                data.users[initial[0]].password_hash = _HASHER.hash(initial[1])
        if initial is None:
            return created, None
        # After users.json: a file must never hold a password that does not work.
        path = self.dir / INITIAL_ADMIN_FILE
        write_secret(path, initial[1] + "\n")
        return created, (initial[0], path)
