"""Registration needs no token, so it is limited per client address, with the sign-in limit's arithmetic.

At most `REGISTRATION_MAX` registrations per client in a sliding hour (the weighted sum of the current and the
previous fixed window of an hour, `client_retry_after` of subsidy/api/accounts.py); beyond it, 429 with Retry-After
and nothing is checked or stored. What counts is a registration whose body and password are acceptable, that is
each attempt that would leave a pending registration or learn a 409 about the number — so that nobody can leave
many pending registrations on others' ID numbers, nor probe which numbers have one. One counter row per client and
window (`registration_clients`, migration 0014), never one per attempt; rows older than the previous window go.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.accounts import client_retry_after, window_start
from subsidy.api.errors import ErrorOut, TooManyRequests

log = logging.getLogger(__name__)

REGISTRATION_WINDOW = timedelta(hours=1)
REGISTRATION_MAX = 5
TOO_MANY_REGISTRATIONS = (
    "too_many_registrations: this address has registered too many accounts within the hour; try again after "
    "Retry-After seconds, or ask your County Disabled Persons' Federation at the service window"
)


async def count_registration(sessions: async_sessionmaker[AsyncSession], client: str) -> None:
    """Counts one registration of `client`, or refuses it (TooManyRequests, not counted) beyond the limit.

    Its own transaction, committed at once: a registration refused afterwards (409, 422) still counts."""
    client = client[:64]
    async with sessions.begin() as db:
        # Parallel registrations of one client queue here, so that none slips past the limit.
        lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
        await db.execute(lock, {"key": f"registration-client:{client}"})
        now = datetime.now(UTC)
        current = window_start(now, REGISTRATION_WINDOW)
        previous_start = current - REGISTRATION_WINDOW
        forget = text("DELETE FROM registration_clients WHERE window_start < :before")
        await db.execute(forget, {"before": previous_start})
        rows = (
            await db.execute(
                text(
                    "SELECT window_start, registrations FROM registration_clients "
                    "WHERE client = :client AND window_start >= :before"
                ),
                {"client": client, "before": previous_start},
            )
        ).all()
        counts = {row.window_start: row.registrations for row in rows}
        retry_after = client_retry_after(
            counts.get(previous_start, 0),
            counts.get(current, 0),
            (now - current).total_seconds(),
            window=REGISTRATION_WINDOW,
            limit=REGISTRATION_MAX,
        )
        if retry_after is not None:
            log.warning("registration refused for a client: too many within the hour, retry in %s s", retry_after)
            raise TooManyRequests(TOO_MANY_REGISTRATIONS, retry_after)
        await db.execute(
            text(
                "INSERT INTO registration_clients (client, window_start, registrations) VALUES (:client, :start, 1) "
                "ON CONFLICT (client, window_start) DO UPDATE "
                "SET registrations = registration_clients.registrations + 1"
            ),
            {"client": client, "start": current},
        )


# The 429 of `POST /api/v1/registrations` in the OpenAPI document (the shared meaning of 429 is sign-in's).
REGISTRATION_LIMITED = {
    "model": ErrorOut,
    "description": f"more than {REGISTRATION_MAX} registrations from this client address within the hour: try again "
    "after Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds until a registration is taken"}},
}
