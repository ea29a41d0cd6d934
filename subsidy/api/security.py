"""Passwords (argon2id) and bearer tokens (JWT, HS256): maintained libraries, no hand-rolled crypto."""

from __future__ import annotations

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

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def issue_token(identity: Identity, key: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": identity.username,
        "roles": list(identity.roles),
        "county": identity.county,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, key: str) -> Identity | None:
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError:
        return None
    return Identity(str(claims["sub"]), tuple(claims.get("roles") or ()), claims.get("county"))
