from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from subsidy.api.deps import CurrentUser, ResourcesDep, SessionDep
from subsidy.api.errors import NotAuthenticated
from subsidy.api.schemas import Me, Token
from subsidy.api.security import Identity, issue_token, verify_password
from subsidy.db.models import User

router = APIRouter(prefix="/api/v1", tags=["identity"])
log = logging.getLogger(__name__)


@router.post("/auth/token", response_model=Token)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: SessionDep, res: ResourcesDep) -> Token:
    user = await db.scalar(select(User).where(User.username == form.username))
    if not verify_password(user.password_hash if user else None, form.password) or user is None:
        # The password is never logged; the user name is, for the audit of failed sign-ins.
        log.warning("failed sign-in for user %r", form.username[:64])
        raise NotAuthenticated("wrong user name or password")
    identity = Identity(user.username, tuple(user.roles), user.county)
    return Token(access_token=issue_token(identity, res.signing_key, res.settings.jwt_minutes))


@router.get("/me", response_model=Me)
async def me(identity: CurrentUser) -> Me:
    return Me(username=identity.username, roles=list(identity.roles), county=identity.county)
