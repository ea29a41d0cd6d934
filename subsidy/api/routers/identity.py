from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from subsidy.api import passwords
from subsidy.api.account_schemas import PasswordChangeIn
from subsidy.api.accounts import sign_in
from subsidy.api.auth_sessions import revoke
from subsidy.api.bindings import acts_for_out, binding_of
from subsidy.api.deps import CurrentUser, ResourcesDep, SessionDep, SignedInAccount
from subsidy.api.errors import NotAuthenticated, TooManyRequests, documented
from subsidy.api.refusals import client_address, set_actor, skip_refusal_audit
from subsidy.api.schemas import Me, Token
from subsidy.api.security import issue_token

router = APIRouter(prefix="/api/v1", tags=["identity"])
log = logging.getLogger(__name__)


@router.post("/auth/token", response_model=Token, responses=documented(400, 401, 413, 429))
async def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], res: ResourcesDep) -> Token:
    """A bearer token for `SUBSIDY_JWT_MINUTES` (30 by default), bound to a server-side session: revoked by
    `POST /auth/logout`, by disabling the account and by a password change."""
    set_actor(request, form.username)
    attempt = await sign_in(
        res.sessions,
        form.username,
        form.password,
        client=client_address(request),
        kind="api",
        lifetime=timedelta(minutes=res.settings.jwt_minutes),
        path=request.url.path,
    )
    if not attempt.audited:
        skip_refusal_audit(request)
    if attempt.retry_after is not None:
        raise TooManyRequests("too many failed sign-ins: try again later", attempt.retry_after)
    if attempt.identity is None or attempt.secret is None:
        raise NotAuthenticated("wrong user name or password")
    signed = issue_token(attempt.identity.username, attempt.secret, res.signing_key, res.settings.jwt_minutes)
    return Token(access_token=signed)


@router.post("/auth/logout", status_code=204, response_class=Response, responses=documented(401))
async def logout(request: Request, identity: CurrentUser, db: SessionDep) -> Response:
    """Revokes the token's session: the same token gets 401 from now on."""
    await revoke(db, request.state.session_secret)
    await db.commit()  # before the answer: the client's next request must find the token revoked
    return Response(status_code=204)


@router.post("/auth/change-password", status_code=204, response_class=Response, responses=documented(400, 401, 413))
async def change_password(request: Request, body: PasswordChangeIn, identity: CurrentUser, db: SessionDep) -> Response:
    """The caller's new password (`old` is the current one); the only call a one-time password allows besides
    `/auth/logout` and `/me`. Every other session and token of the account ends; this token goes on."""
    await passwords.change_password(db, identity, body.old, body.new, keep_session=request.state.session_secret)
    await db.commit()  # before the answer: the next request must find the new password and no restriction
    return Response(status_code=204)


@router.get("/me", response_model=Me, responses=documented(401))
async def me(identity: SignedInAccount, db: SessionDep) -> Me:
    """Who is signed in, and whom the account acts for (`acts_for`, null for officials; `status` pending until the
    County DPF verifies it). An account that is not verified can read this and its registration, nothing else."""
    return Me(
        username=identity.username,
        roles=list(identity.roles),
        county=identity.county,
        must_change_password=identity.must_change_password,
        acts_for=acts_for_out(await binding_of(db, identity.username)),  # type: ignore[arg-type]
    )
