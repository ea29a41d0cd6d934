"""Dependencies shared by the routers: the session, the Temporal client, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from subsidy.api.auth_sessions import api_identity
from subsidy.api.bindings import NOT_VERIFIED_MESSAGE
from subsidy.api.errors import Forbidden, NotAuthenticated
from subsidy.api.refusals import set_actor
from subsidy.api.security import Identity, read_token
from subsidy.programs.rent_subsidy.form import UUID_PATTERN
from subsidy.settings import Settings


@dataclass
class Resources:
    """Created once per process (the app's lifespan, or `subsidy up`) and shared by every request."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: Client
    signing_key: str


def resources(request: Request) -> Resources:
    found: Resources = request.app.state.resources
    return found


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the handler returns, rolled back when it raises."""
    async with resources(request).sessions() as db:
        try:
            yield db
        except BaseException:
            await db.rollback()
            raise
        await db.commit()


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Only these may be called with a one-time password: choosing a new one, signing out, and asking who one is.
PASSWORD_CHANGE_PATHS = frozenset(("/api/v1/auth/change-password", "/api/v1/auth/logout", "/api/v1/me"))


# The dependencies below are `async def` although some do no I/O: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request that cost more CPU than the work itself (bench/, README).
async def current_account(
    request: Request, token: Annotated[str | None, Depends(_bearer)], db: Annotated[AsyncSession, Depends(session)]
) -> Identity:
    """The caller of a bearer token, checked against its session and account in one query on the request's own
    database session (the handler's `SessionDep` is the same one: no extra connection or round trip). Verified or
    not: only `/me` and the account's registration take this one; everything else takes `current_identity`."""
    if not token:
        raise NotAuthenticated("not logged in")
    claims = read_token(token, resources(request).signing_key)
    identity = await api_identity(db, *claims) if claims is not None else None
    if identity is None:
        raise NotAuthenticated("the token is invalid, has expired or was revoked")
    set_actor(request, identity.username)
    request.state.session_secret = claims[1] if claims is not None else None
    if identity.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise Forbidden("password_change_required: choose a new password first (POST /api/v1/auth/change-password)")
    return identity


async def current_identity(
    request: Request, token: Annotated[str | None, Depends(_bearer)], db: Annotated[AsyncSession, Depends(session)]
) -> Identity:
    identity = await current_account(request, token, db)
    if not identity.roles:
        # A registered account gets its role when the County DPF verifies whom it acts for (subsidy/api/bindings.py).
        raise Forbidden(NOT_VERIFIED_MESSAGE)
    return identity


def require_roles(*roles: str):  # type: ignore[no-untyped-def]
    async def check(identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
        if not identity.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return identity

    return check


@dataclass
class Page:
    limit: int
    offset: int


async def page(
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
) -> Page:
    return Page(limit, offset)


# Ids in paths are UUIDs in their canonical form; anything else is refused (422) before a query runs.
ApplicationIdPath = Annotated[str, Path(pattern=UUID_PATTERN, max_length=36, description="the application's id")]
TaskIdPath = Annotated[str, Path(pattern=UUID_PATTERN, max_length=36, description="the task's id")]
# Program codes and statuses in query filters: lower-case words, as the read model stores them.
CodeQuery = Annotated[str | None, Query(pattern=r"^[a-z_]{1,48}$", max_length=48)]


async def _resources(request: Request) -> Resources:
    return resources(request)


ResourcesDep = Annotated[Resources, Depends(_resources)]
SessionDep = Annotated[AsyncSession, Depends(session)]
CurrentUser = Annotated[Identity, Depends(current_identity)]
SignedInAccount = Annotated[Identity, Depends(current_account)]
PageDep = Annotated[Page, Depends(page)]
