"""What a new password must be, judged by zxcvbn (Dropbox's estimator, maintained as `zxcvbn` on PyPI) rather than by
rules of our own: it knows, offline, the most common passwords of public breach lists, keyboard patterns, dates,
repeats and words, and it is told the account's own user name and name so that those count as guessable too.

Our only numbers: at least `MIN_LENGTH` characters (NIST SP 800-63B asks for 8 at least; officials' accounts get 10),
at most `MAX_LENGTH` (argon2 would hash more, but no one types more), and zxcvbn's score at least `MIN_SCORE`
("safely unguessable": about 10^8 guesses or more).
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from zxcvbn import zxcvbn

from subsidy.api.auth_sessions import revoke_all
from subsidy.api.errors import Invalid, NotAuthenticated
from subsidy.api.security import Identity, hash_password, verify_password
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import User

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3
# A one-time password an administrator reads out or hands over: no look-alike characters (0/o, 1/l/i).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why the password cannot be used, in one sentence; None when it can."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if not password.isprintable():
        return "use only printable characters"
    result = zxcvbn(password, user_inputs=[value for value in user_inputs if value])
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or "it is too easy to guess"
        return f"choose a password that is harder to guess: {warning.rstrip('.')}"
    return None


def one_time_password() -> str:
    """Four groups of four characters (about 79 bits): valid until its first use, which must choose a new one."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


async def change_password(
    db: AsyncSession, identity: Identity, old: str, new: str, *, keep_session: str | None
) -> None:
    """The account's own change: the old password, then a new one that zxcvbn accepts and that is not the old one.
    Every other session and token of the account ends; the caller's own (`keep_session`) goes on, now unrestricted."""
    user = await db.scalar(select(User).where(User.username == identity.username).with_for_update())
    if user is None:
        raise NotAuthenticated("no such account")
    if not await asyncio.to_thread(verify_password, user.password_hash, old):
        raise Invalid("old", "this is not the current password")
    if new == old:
        raise Invalid("new", "choose a password other than the current one")
    problem = password_problem(new, user_inputs=(user.username, user.display_name))
    if problem is not None:
        raise Invalid("new", problem)
    user.password_hash = await asyncio.to_thread(hash_password, new)
    user.must_change_password = False
    user.password_changed_at = datetime.now(UTC)
    ended = await revoke_all(db, user.username, keep=keep_session)
    await append_audit(
        db,
        kind="password_changed",
        actor=user.username,
        at=user.password_changed_at,
        detail={"username": user.username, "sessions_ended": ended},
    )
