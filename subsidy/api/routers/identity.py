from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from subsidy.api.accounts import sign_in
from subsidy.api.bindings import acts_for_out, binding_of
from subsidy.api.deps import ResourcesDep, SessionDep, SignedInAccount
from subsidy.api.errors import NotAuthenticated, TooManyRequests, documented
from subsidy.api.refusals import set_actor
from subsidy.api.schemas import Me, Token
from subsidy.api.security import issue_token

router = APIRouter(prefix="/api/v1", tags=["identity"])
log = logging.getLogger(__name__)


@router.post("/auth/token", response_model=Token, responses=documented(400, 401, 413, 429))
async def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], res: ResourcesDep) -> Token:
    set_actor(request, form.username)
    attempt = await sign_in(res.sessions, form.username, form.password)
    if attempt.retry_after is not None:
        raise TooManyRequests("too many failed sign-ins for this user name: try again later", attempt.retry_after)
    if attempt.identity is None:
        raise NotAuthenticated("wrong user name or password")
    return Token(access_token=issue_token(attempt.identity, res.signing_key, res.settings.jwt_minutes))


@router.get("/me", response_model=Me, responses=documented(401))
async def me(identity: SignedInAccount, db: SessionDep) -> Me:
    """Who is signed in, and whom the account acts for (`acts_for`, null for officials; `status` pending until the
    County DPF verifies it). An account that is not verified can read this and its registration, nothing else."""
    acts_for = acts_for_out(await binding_of(db, identity.username))
    return Me(username=identity.username, roles=list(identity.roles), county=identity.county, acts_for=acts_for)  # type: ignore[arg-type]
