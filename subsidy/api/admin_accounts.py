"""Officials' accounts, as administrators keep them: create with roles and county, list and search, disable and
enable, reset a password to a one-time one. The API, the pages and `subsidy accounts …` all come here.

Every change goes to the audit log with the administrator who made it (never a password). An administrator cannot
act on their own account — so cannot grant themselves a role, re-enable themselves or reset their own password.
Disabling an account and resetting its password end all of its sessions and tokens at once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.account_schemas import CITY_ROLES, COUNTY_ROLES, AccountIn, AccountOut, OneTimePassword
from subsidy.api.auth_sessions import revoke_all
from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.passwords import one_time_password
from subsidy.api.security import Identity, hash_password
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import User
from subsidy.policy.counties import BAOTOU_COUNTIES


def account_out(user: User) -> AccountOut:
    return AccountOut(
        username=user.username,
        display_name=user.display_name,
        roles=list(user.roles),
        county=user.county,
        disabled=user.disabled_at is not None,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
    )


def _not_self(admin: Identity, username: str) -> None:
    if username == admin.username:
        raise Forbidden("an administrator cannot act on their own account")


def _check_roles_and_county(body: AccountIn) -> None:
    roles = set(body.roles)
    if len(roles) != len(body.roles):
        raise Invalid("roles", "each role once")
    if roles & COUNTY_ROLES and body.county is None:
        raise Invalid("county", f"the roles {', '.join(sorted(roles & COUNTY_ROLES))} act for one county: name it")
    if body.county is not None:
        if body.county not in BAOTOU_COUNTIES:
            raise Invalid("county", "not a county of Baotou")
        if roles & CITY_ROLES:
            raise Invalid("county", f"the roles {', '.join(sorted(roles & CITY_ROLES))} are city-wide: no county")


async def _audit(db: AsyncSession, kind: str, admin: Identity, user: User, **more: Any) -> None:
    detail = {"username": user.username, "roles": list(user.roles), "county": user.county, **more}
    await append_audit(db, kind=kind, actor=admin.username, at=datetime.now(UTC), detail=detail)


async def _user(db: AsyncSession, username: str, *, lock: bool = False) -> User:
    query = select(User).where(User.username == username)
    found = await db.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound("no such account")
    return found


async def create_account(db: AsyncSession, admin: Identity, body: AccountIn) -> OneTimePassword:
    _not_self(admin, body.username)
    _check_roles_and_county(body)
    if await db.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise Conflict("an account with this user name exists")
    password = one_time_password()
    user = User(
        username=body.username,
        display_name=body.display_name or body.username,
        password_hash=await asyncio.to_thread(hash_password, password),
        roles=list(body.roles),
        county=body.county,
        must_change_password=True,
        password_changed_at=datetime.now(UTC),
    )
    db.add(user)
    await db.flush()
    await _audit(db, "account_created", admin, user)
    return OneTimePassword(username=user.username, one_time_password=password)


async def list_accounts(db: AsyncSession, q: str, limit: int, offset: int) -> tuple[list[User], int]:
    """Accounts whose user name or name contains `q` (any case), by user name."""
    query = select(User)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = (User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\"))
        query = query.where(or_(*matches))
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    users = (await db.scalars(query.order_by(User.username).limit(limit).offset(offset))).all()
    return list(users), int(total or 0)


async def get_account(db: AsyncSession, username: str) -> User:
    return await _user(db, username)


async def disable_account(db: AsyncSession, admin: Identity, username: str) -> User:
    _not_self(admin, username)
    user = await _user(db, username, lock=True)
    if user.disabled_at is None:
        user.disabled_at = datetime.now(UTC)
        ended = await revoke_all(db, username)
        await _audit(db, "account_disabled", admin, user, sessions_ended=ended)
    return user


async def enable_account(db: AsyncSession, admin: Identity, username: str) -> User:
    _not_self(admin, username)
    user = await _user(db, username, lock=True)
    if user.disabled_at is not None:
        user.disabled_at = None
        await _audit(db, "account_enabled", admin, user)
    return user


async def reset_password(db: AsyncSession, admin: Identity, username: str) -> OneTimePassword:
    _not_self(admin, username)
    user = await _user(db, username, lock=True)
    password = one_time_password()
    user.password_hash = await asyncio.to_thread(hash_password, password)
    user.must_change_password = True
    user.password_changed_at = datetime.now(UTC)
    ended = await revoke_all(db, username)
    await _audit(db, "account_password_reset", admin, user, sessions_ended=ended)
    return OneTimePassword(username=user.username, one_time_password=password)
