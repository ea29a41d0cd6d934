"""Engine and session factory: created once per process and handed to whoever needs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_


def async_url(url: str) -> str:
    """Accept the `postgresql://` URLs people and tools write, and use the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(async_url(url), pool_size=pool_size, max_overflow=20, pool_pre_ping=True)
    dialect = engine.sync_engine.dialect
    if dialect.driver == "asyncpg":
        dialect.do_ping = _ping_in_one_round_trip  # type: ignore[method-assign]
    return engine


def _ping_in_one_round_trip(dbapi_connection: Any) -> bool:
    """The pre-ping of every checkout (a connection PostgreSQL dropped, e.g. after a restart, is replaced before
    use), as one `;` instead of SQLAlchemy's BEGIN, `;`, ROLLBACK: that is for pgbouncer's transaction mode, and we
    connect to PostgreSQL itself. Three round trips per transaction were 7 % of the API's CPU (bench/, py-spy)."""
    try:
        await_(dbapi_connection._connection.fetchrow(";"))
    except Exception as error:
        dbapi_connection._handle_exception(error)  # as SQLAlchemy's own ping: a disconnect error the pool knows
    return True


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
