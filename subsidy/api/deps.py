"""Dependencies shared by the routers: the session, the Temporal client, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from subsidy.api.errors import Forbidden, NotAuthenticated
from subsidy.api.security import Identity, read_token
from subsidy.service.settings import Settings


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


def current_identity(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Identity:
    if not token:
        raise NotAuthenticated("not logged in")
    identity = read_token(token, resources(request).signing_key)
    if identity is None:
        raise NotAuthenticated("the token is invalid or has expired")
    return identity


def require_roles(*roles: str):  # type: ignore[no-untyped-def]
    def check(identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
        if not identity.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return identity

    return check


@dataclass
class Page:
    limit: int
    offset: int


def page(
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
) -> Page:
    return Page(limit, offset)


ResourcesDep = Annotated[Resources, Depends(resources)]
SessionDep = Annotated[AsyncSession, Depends(session)]
CurrentUser = Annotated[Identity, Depends(current_identity)]
PageDep = Annotated[Page, Depends(page)]
