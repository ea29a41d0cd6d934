"""Signing in, for the token endpoint and the sign-in page alike."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.security import Identity, verify_password
from subsidy.db.models import User

log = logging.getLogger(__name__)


async def authenticate(session: AsyncSession, username: str, password: str) -> Identity | None:
    user = await session.scalar(select(User).where(User.username == username[:64]))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        # The password is never logged; the user name is, so repeated failures can be seen.
        log.warning("failed sign-in for user %r", username[:64])
        return None
    return Identity(user.username, tuple(user.roles), user.county)
