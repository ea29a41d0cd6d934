"""Signing in, for the token endpoint and the sign-in page alike, with failed attempts rate-limited per user name.

Five failures for one user name within 15 minutes close it for sign-in until the oldest of them is 15 minutes old:
until then no password is even checked, the right one included, so guessing gains nothing. The count lives in
PostgreSQL (`sign_in_failures`: user name and time, never the password), so every API instance shares it, and a
transaction-scoped advisory lock per user name makes parallel guesses queue instead of slipping past the count.
Unknown user names are counted too: whether an account exists must not show in the answers.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.security import Identity, verify_password
from subsidy.db.models import SignInFailure, User

log = logging.getLogger(__name__)

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
USERNAME_MAX = 64


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: an identity, or a refusal; `retry_after` (seconds) when the name is closed."""

    identity: Identity | None
    retry_after: int | None = None


async def authenticate(session: AsyncSession, username: str, password: str) -> Identity | None:
    """Check a user name and password, without counting (the callers that count use `sign_in`)."""
    if not _plausible(username):
        return None
    user = await session.scalar(select(User).where(User.username == username))
    # argon2 takes a large fraction of a second by design: off the event loop, so one sign-in does not stall all.
    if not await asyncio.to_thread(verify_password, user.password_hash if user else None, password) or user is None:
        return None
    return Identity(user.username, tuple(user.roles), user.county)


async def sign_in(sessions: async_sessionmaker[AsyncSession], username: str, password: str) -> SignIn:
    if not _plausible(username):
        # No account can have such a name, and it cannot be stored: refused without a trace in the table.
        log.warning("failed sign-in for an impossible user name")
        return SignIn(None)
    async with sessions.begin() as session:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"sign-in:{username}"}
        )
        now = datetime.now(UTC)
        recent = (
            await session.scalars(
                select(SignInFailure.at)
                .where(SignInFailure.username == username, SignInFailure.at > now - FAILURE_WINDOW)
                .order_by(SignInFailure.at.desc())
                .limit(MAX_FAILURES)
            )
        ).all()
        if len(recent) >= MAX_FAILURES:
            # Open again when the oldest of the last five leaves the window.
            retry_after = max(1, math.ceil((recent[-1] + FAILURE_WINDOW - now).total_seconds()))
            log.warning("sign-in refused for user %r: too many failures, retry in %s s", username, retry_after)
            return SignIn(None, retry_after)
        identity = await authenticate(session, username, password)
        if identity is None:
            # The password is never logged; the user name is, so repeated failures can be seen.
            log.warning("failed sign-in for user %r", username)
            session.add(SignInFailure(username=username, at=now))
            # Expired rows go as new ones come, so the table stays as small as the window.
            await session.execute(delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_WINDOW))
            return SignIn(None)
        await session.execute(delete(SignInFailure).where(SignInFailure.username == username))
        return SignIn(identity)


def _plausible(username: str) -> bool:
    """A user name that could be stored: not empty, not too long, only printable characters."""
    return 0 < len(username) <= USERNAME_MAX and username.isprintable()
