from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from subsidy.api.accounts import authenticate
from subsidy.api.deps import CurrentUser, ResourcesDep, SessionDep
from subsidy.api.errors import NotAuthenticated
from subsidy.api.schemas import Me, Token
from subsidy.api.security import issue_token

router = APIRouter(prefix="/api/v1", tags=["identity"])
log = logging.getLogger(__name__)


@router.post("/auth/token", response_model=Token)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: SessionDep, res: ResourcesDep) -> Token:
    identity = await authenticate(db, form.username, form.password)
    if identity is None:
        raise NotAuthenticated("wrong user name or password")
    return Token(access_token=issue_token(identity, res.signing_key, res.settings.jwt_minutes))


@router.get("/me", response_model=Me)
async def me(identity: CurrentUser) -> Me:
    return Me(username=identity.username, roles=list(identity.roles), county=identity.county)
