"""Server-side sessions: every page request and every bearer token is checked against its row and its account.

The browser's cookie and the client's token carry a random secret; `sessions` keeps its SHA-256 with the user name,
kind (`page` or `api`), creation, last use, expiry and revocation. Each request is one indexed query that joins the
account: the session must exist, be unrevoked and unexpired, and the account must exist and not be disabled; the
roles and county come from `users`, so a change there counts from the next request. Signing out revokes the row,
disabling an account or changing its password revokes all of the account's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.security import Identity, new_session_secret, secret_digest

# A bearer token: absolute lifetime only (SUBSIDY_JWT_MINUTES), and the query only reads.
_API_IDENTITY = text(
    "SELECT u.roles, u.county, u.must_change_password FROM sessions s JOIN users u ON u.username = s.username "
    "WHERE s.id_hash = :id_hash AND s.username = :username AND s.kind = 'api' AND s.revoked_at IS NULL "
    "AND s.expires_at > now() AND u.disabled_at IS NULL"
)
# A page session: idle and absolute time-outs; a live one records its use in the same statement.
_PAGE_IDENTITY = text(
    "UPDATE sessions s SET last_seen_at = now() FROM users u "
    "WHERE s.id_hash = :id_hash AND s.kind = 'page' AND u.username = s.username AND s.revoked_at IS NULL "
    "AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => :idle) AND u.disabled_at IS NULL "
    "RETURNING u.username, u.roles, u.county, u.must_change_password"
)
# Not live: revoked now whatever the reason, and whether it was a time-out (the sign-in page then says so).
_END_PAGE_SESSION = text(
    "UPDATE sessions SET revoked_at = now() WHERE id_hash = :id_hash AND kind = 'page' AND revoked_at IS NULL "
    "RETURNING (expires_at <= now() OR last_seen_at <= now() - make_interval(secs => :idle)) AS timed_out"
)
# Rows expired a day ago or more serve nobody.
_FORGET_OLD = text("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")


async def open_session(db: AsyncSession, username: str, kind: str, lifetime: timedelta, now: datetime) -> str:
    """A new session row; returns its secret (for the cookie or the token), which is not stored."""
    secret = new_session_secret()
    await db.execute(_FORGET_OLD)
    await db.execute(
        text(
            "INSERT INTO sessions (id_hash, username, kind, created_at, last_seen_at, expires_at) "
            "VALUES (:id_hash, :username, :kind, :now, :now, :expires_at)"
        ),
        {
            "id_hash": secret_digest(secret),
            "username": username,
            "kind": kind,
            "now": now,
            "expires_at": now + lifetime,
        },
    )
    return secret


async def api_identity(db: AsyncSession, username: str, secret: str) -> Identity | None:
    row = (await db.execute(_API_IDENTITY, {"id_hash": secret_digest(secret), "username": username})).first()
    if row is None:
        return None
    return Identity(username, tuple(row.roles), row.county, row.must_change_password)


@dataclass(frozen=True)
class PageCheck:
    identity: Identity | None
    timed_out: bool = False


async def page_identity(db: AsyncSession, secret: str, idle_seconds: int) -> PageCheck:
    params = {"id_hash": secret_digest(secret), "idle": idle_seconds}
    row = (await db.execute(_PAGE_IDENTITY, params)).first()
    if row is not None:
        return PageCheck(Identity(row.username, tuple(row.roles), row.county, row.must_change_password))
    ended = (await db.execute(_END_PAGE_SESSION, params)).first()
    return PageCheck(None, timed_out=bool(ended is not None and ended.timed_out))


async def revoke(db: AsyncSession, secret: str) -> bool:
    result = await db.execute(
        text("UPDATE sessions SET revoked_at = now() WHERE id_hash = :id_hash AND revoked_at IS NULL RETURNING 1"),
        {"id_hash": secret_digest(secret)},
    )
    return result.first() is not None


async def revoke_all(db: AsyncSession, username: str, *, keep: str | None = None) -> int:
    """Ends every live session of an account (all but `keep`, the caller's own, when given)."""
    result = await db.execute(
        text(
            "UPDATE sessions SET revoked_at = now() WHERE username = :username AND revoked_at IS NULL "
            "AND id_hash <> :keep RETURNING 1"
        ),
        {"username": username, "keep": secret_digest(keep) if keep else ""},
    )
    return len(result.all())
