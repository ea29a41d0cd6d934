"""Passwords (argon2id) and bearer tokens (JWT, HS256): maintained libraries, no hand-rolled crypto."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of "no such user" and "wrong password" alike.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Identity:
    username: str
    roles: tuple[str, ...]
    county: str | None
    # After an administrator's reset: nothing is allowed but changing the password (and signing out).
    must_change_password: bool = False

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def new_session_secret() -> str:
    """The secret of a page session or a bearer token: 256 random bits. Only its `secret_digest` is stored."""
    return secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(username: str, session_secret: str, key: str, minutes: int) -> str:
    """A signed token naming its server-side session (`sid`): roles and county are read from the account on every
    request, and revoking the session (sign-out, disabling, password change) ends the token at once."""
    now = datetime.now(UTC)
    claims = {"sub": username, "sid": session_secret, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, key: str) -> tuple[str, str] | None:
    """The user name and session secret of a validly signed, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "sid", "exp"]})
    except jwt.PyJWTError:
        return None
    username, sid = claims["sub"], claims["sid"]
    if not isinstance(username, str) or not isinstance(sid, str) or not sid:
        return None
    return username, sid
