"""Signing in, for the token endpoint and the sign-in page alike, slowed down so that guessing gains nothing and no
stranger can keep an official out.

- **Per account** (existing accounts only): after consecutive failures from any client the account waits
  `account_delay(n)` seconds (0, 0, 1, 2, 4, 8, 16, then 30 at most) before the next attempt is checked; an attempt
  inside the wait gets 429 with Retry-After and is not counted. Once the wait is over the right password works,
  however many failures came before: there is no lock. Fifteen minutes without a failure forget the count, and so
  does a successful sign-in. A transaction-scoped advisory lock per user name makes parallel guesses queue.
- **Per client** (the address the request came from), for every user name tried, existing or not: at most
  `CLIENT_MAX_FAILURES` failures in a sliding window of `CLIENT_WINDOW` (the weighted sum of the current and the
  previous fixed window); beyond it, 429 with Retry-After for every sign-in from that client, the right password
  included — which stops only that client.
- **What is stored**: a counter row per account (`sign_in_accounts`) and one per client and window
  (`sign_in_clients`), never a row per attempt and never a password. A failure for an existing account is audited
  (its user name, method, path); failures for unknown user names and refused attempts are audited as one aggregated
  record per client and window (when the client is refused, and when a later window begins).

Whether an account exists shows neither in the answer (401 alike) nor in its timing (argon2 runs against a dummy
hash); an unknown user name is not delayed, though, so a client that fails three times in a row on one name can
tell from the absence of a wait — within its own limit of `CLIENT_MAX_FAILURES` attempts per window.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.auth_sessions import open_session
from subsidy.api.security import Identity, verify_password
from subsidy.db.audit_chain import append_audit

log = logging.getLogger(__name__)

USERNAME_MAX = 64
ACCOUNT_MEMORY = timedelta(minutes=15)
ACCOUNT_DELAY_CAP = 30
CLIENT_WINDOW = timedelta(minutes=15)
CLIENT_MAX_FAILURES = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def account_delay(failures: int) -> int:
    """Seconds an account waits after `failures` consecutive failures: 0, 0, 1, 2, 4, 8, 16, 30, 30, …"""
    return 0 if failures < 3 else min(2 ** (failures - 3), ACCOUNT_DELAY_CAP)


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: an identity and its session's secret, or a refusal.

    `retry_after` (seconds) when the attempt was not checked (the account's wait, or the client's limit); `audited`
    is False when the refusal is covered by the client's aggregated audit record instead of a record of its own."""

    identity: Identity | None
    secret: str | None = None
    retry_after: int | None = None
    audited: bool = True
    client_limited: bool = False


def window_start(now: datetime, window: timedelta = CLIENT_WINDOW) -> datetime:
    size = window.total_seconds()
    return _EPOCH + timedelta(seconds=math.floor((now - _EPOCH).total_seconds() / size) * size)


def client_retry_after(
    previous: int, current: int, elapsed: float, *, window: timedelta = CLIENT_WINDOW, limit: int = CLIENT_MAX_FAILURES
) -> int | None:
    """Seconds until the client's sliding count drops below the limit; None when it is below already.

    The count at `elapsed` seconds into the current window is `previous × (1 − elapsed / W) + current`. Registration
    (subsidy/api/registration_limits.py) counts with the same arithmetic, its own window and limit."""
    size = window.total_seconds()
    if previous * (1 - elapsed / size) + current < limit:
        return None
    if current < limit:
        # Within this window, as the previous one's weight falls.
        wait = size * (1 - (limit - current) / previous) - elapsed
    else:
        # In the next window, as this one's weight falls.
        wait = (size - elapsed) + size * (1 - limit / current)
    return max(1, math.floor(wait) + 1)


async def sign_in(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    password: str,
    *,
    client: str,
    kind: str,
    lifetime: timedelta,
    path: str,
) -> SignIn:
    client = client[:64]
    now = datetime.now(UTC)
    current = window_start(now)
    async with sessions.begin() as db:
        refused = await _client_refusal(db, client, now, current, path)
    if refused is not None:
        return refused
    plausible = 0 < len(username) <= USERNAME_MAX and username.isprintable()
    if not plausible:
        # No account can have such a name, and it cannot be stored: an anonymous failure of the client.
        log.warning("failed sign-in for an impossible user name")
        await _count_client(sessions, client, current, failure=True, anonymous=True)
        return SignIn(None, audited=False)
    async with sessions.begin() as db:
        lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
        await db.execute(lock, {"key": f"sign-in:{username}"})
        now = datetime.now(UTC)  # after the wait for the lock: the attempts before this one are all counted
        user = (
            await db.execute(
                text(
                    "SELECT u.password_hash, u.roles, u.county, u.disabled_at, u.must_change_password, "
                    "a.failures, a.last_failure_at FROM users u "
                    "LEFT JOIN sign_in_accounts a ON a.username = u.username WHERE u.username = :username"
                ),
                {"username": username},
            )
        ).first()
        failures = 0
        if user is not None and user.failures and user.last_failure_at > now - ACCOUNT_MEMORY:
            failures = user.failures
        if user is not None and account_delay(failures):
            ready = user.last_failure_at + timedelta(seconds=account_delay(failures))
            if now < ready:
                retry_after = max(1, math.ceil((ready - now).total_seconds()))
                log.warning("sign-in for user %r not checked: %s failures, wait %s s", username, failures, retry_after)
                outcome: SignIn | None = SignIn(None, retry_after=retry_after, audited=False)
            else:
                outcome = None
        else:
            outcome = None
        if outcome is None:
            # argon2 takes a large fraction of a second by design: off the event loop, so one sign-in stalls no other.
            hash_ = user.password_hash if user is not None else None
            right = await asyncio.to_thread(verify_password, hash_, password)
            if right and user is not None and user.disabled_at is None:
                forget = text("DELETE FROM sign_in_accounts WHERE username = :username")
                await db.execute(forget, {"username": username})
                identity = Identity(username, tuple(user.roles), user.county, user.must_change_password)
                secret = await open_session(db, username, kind, lifetime, now)
                return SignIn(identity, secret)
            if user is not None:
                # The password is never logged; the user name is, so repeated failures can be seen.
                log.warning("failed sign-in for user %r", username)
                await db.execute(
                    text(
                        "INSERT INTO sign_in_accounts (username, failures, last_failure_at) "
                        "VALUES (:username, :n, :now) "
                        "ON CONFLICT (username) DO UPDATE SET failures = :n, last_failure_at = :now"
                    ),
                    {"username": username, "n": failures + 1, "now": now},
                )
                outcome = SignIn(None)
            else:
                log.warning("failed sign-in for an unknown user name")
                outcome = SignIn(None, audited=False)
    if outcome.retry_after is not None:
        await _count_client(sessions, client, current, refused=True)
    else:
        await _count_client(sessions, client, current, failure=True, anonymous=not outcome.audited)
    return outcome


async def _count_client(
    sessions: async_sessionmaker[AsyncSession],
    client: str,
    current: datetime,
    *,
    failure: bool = False,
    anonymous: bool = False,
    refused: bool = False,
) -> None:
    async with sessions.begin() as db:
        await db.execute(
            text(
                "INSERT INTO sign_in_clients (client, window_start, failures, anonymous, refused, audited) "
                "VALUES (:client, :start, :f, :a, :r, 0) ON CONFLICT (client, window_start) DO UPDATE SET "
                "failures = sign_in_clients.failures + :f, anonymous = sign_in_clients.anonymous + :a, "
                "refused = sign_in_clients.refused + :r"
            ),
            {"client": client, "start": current, "f": int(failure), "a": int(anonymous), "r": int(refused)},
        )


async def _client_refusal(db: AsyncSession, client: str, now: datetime, current: datetime, path: str) -> SignIn | None:
    """The client's limit: None when it may try, else the refusal (counted, and audited once per window)."""
    previous_start = current - CLIENT_WINDOW
    # Windows left behind (of any client) whose unaudited failures the log has not seen yet: one record each.
    stale = (
        await db.execute(
            text(
                "SELECT client, window_start, failures, anonymous, refused FROM sign_in_clients "
                "WHERE window_start < :current AND anonymous + refused > audited "
                "ORDER BY window_start LIMIT 20 FOR UPDATE SKIP LOCKED"
            ),
            {"current": current},
        )
    ).all()
    for row in stale:
        await _audit_window(db, row.client, row.window_start, row.failures, row.anonymous, row.refused, 401, path, now)
    # Windows before the previous one count no more, once audited.
    await db.execute(
        text("DELETE FROM sign_in_clients WHERE window_start < :before AND anonymous + refused <= audited"),
        {"before": previous_start},
    )
    rows = (
        await db.execute(
            text(
                "SELECT window_start, failures, anonymous, refused FROM sign_in_clients "
                "WHERE client = :client AND window_start >= :before FOR UPDATE"
            ),
            {"client": client, "before": previous_start},
        )
    ).all()
    by_start = {row.window_start: row for row in rows}
    this, last = by_start.get(current), by_start.get(previous_start)
    retry_after = client_retry_after(
        last.failures if last else 0, this.failures if this else 0, (now - current).total_seconds()
    )
    if retry_after is None:
        return None
    failures, anonymous, refused = (this.failures, this.anonymous, this.refused) if this else (0, 0, 0)
    await db.execute(
        text(
            "INSERT INTO sign_in_clients (client, window_start, failures, anonymous, refused, audited) "
            "VALUES (:client, :start, 0, 0, 1, 0) ON CONFLICT (client, window_start) DO UPDATE SET "
            "refused = sign_in_clients.refused + 1"
        ),
        {"client": client, "start": current},
    )
    if refused == 0:
        # The first refusal of the window is audited with the counts so far; later ones only counted.
        await _audit_window(db, client, current, failures, anonymous, refused + 1, 429, path, now)
    log.warning("sign-in refused for a client: too many failures, retry in %s s", retry_after)
    return SignIn(None, retry_after=retry_after, audited=False, client_limited=True)


async def _audit_window(
    db: AsyncSession,
    client: str,
    start: datetime,
    failures: int,
    anonymous: int,
    refused: int,
    status: int,
    path: str,
    now: datetime,
) -> None:
    await db.execute(
        text("UPDATE sign_in_clients SET audited = :n WHERE client = :client AND window_start = :start"),
        {"n": anonymous + refused, "client": client, "start": start},
    )
    detail = {
        "method": "POST",
        "path": path,
        "status": status,
        "client": client,
        "window_start": start.isoformat(),
        "failures": failures,
        "unknown_names": anonymous,
        "refused": refused,
    }
    await append_audit(db, kind="auth_failed", actor="anonymous", at=now, detail=detail)
