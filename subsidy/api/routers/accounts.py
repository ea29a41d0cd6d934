"""Administrators' accounts API (issue 12, part 1): role `admin` only, never on the administrator's own account."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import admin_accounts
from subsidy.api.account_schemas import USERNAME_PATTERN, AccountIn, AccountOut, OneTimePassword
from subsidy.api.deps import PageDep, SessionDep, require_roles
from subsidy.api.errors import documented
from subsidy.api.security import Identity
from subsidy.forms.text import LineStr

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"], responses=documented(400, 401, 403, 413))
Admin = Annotated[Identity, Depends(require_roles("admin"))]
T = TypeVar("T")


async def committed(db: AsyncSession, answer: T) -> T:
    """Commit before answering (the request's session would commit only after the response is sent): an account
    disabled is refused from the very next request, anyone's."""
    await db.commit()
    return answer


UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, max_length=64, description="the account's user name")]


@router.post("", status_code=201, response_model=OneTimePassword, responses=documented(409))
async def create(body: AccountIn, admin: Admin, db: SessionDep) -> OneTimePassword:
    """A new account with roles and county; its one-time password (shown once) must be changed at first sign-in."""
    return await committed(db, await admin_accounts.create_account(db, admin, body))


@router.get("", response_model=list[AccountOut])
async def search(
    admin: Admin,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    q: Annotated[LineStr, Query(max_length=64, description="part of the user name or name")] = "",
) -> list[AccountOut]:
    users, total = await admin_accounts.list_accounts(db, q, paging.limit, paging.offset)
    response.headers["X-Total-Count"] = str(total)
    return [admin_accounts.account_out(user) for user in users]


@router.get("/{username}", response_model=AccountOut, responses=documented(404))
async def get(username: UsernamePath, admin: Admin, db: SessionDep) -> AccountOut:
    return admin_accounts.account_out(await admin_accounts.get_account(db, username))


@router.post("/{username}/disable", response_model=AccountOut, responses=documented(404))
async def disable(username: UsernamePath, admin: Admin, db: SessionDep) -> AccountOut:
    """Refuses sign-in, and ends every session and token of the account at once."""
    return await committed(db, admin_accounts.account_out(await admin_accounts.disable_account(db, admin, username)))


@router.post("/{username}/enable", response_model=AccountOut, responses=documented(404))
async def enable(username: UsernamePath, admin: Admin, db: SessionDep) -> AccountOut:
    return await committed(db, admin_accounts.account_out(await admin_accounts.enable_account(db, admin, username)))


@router.post("/{username}/reset-password", response_model=OneTimePassword, responses=documented(404))
async def reset_password(username: UsernamePath, admin: Admin, db: SessionDep) -> OneTimePassword:
    """A new one-time password (shown once); the account's sessions and tokens end."""
    return await committed(db, await admin_accounts.reset_password(db, admin, username))
