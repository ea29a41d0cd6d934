"""Registering an account, and reading its registration (the account itself, before it is verified, included)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from subsidy.api import procedures
from subsidy.api.bindings import register, visible_registration
from subsidy.api.deps import CurrentUser, PageDep, ResourcesDep, SessionDep, SignedInAccount
from subsidy.api.errors import Unavailable, documented
from subsidy.api.pending_registrations import PendingRegistrationOut, pending_registrations, visible_county
from subsidy.api.read_model import mask_id_number
from subsidy.api.refusals import client_address, set_actor
from subsidy.api.registration_limits import REGISTRATION_LIMITED, count_registration
from subsidy.api.schemas import RegistrationCreated, RegistrationOut
from subsidy.programs.account_registration.form import RegistrationIn
from subsidy.programs.rent_subsidy.form import UUID_PATTERN

router = APIRouter(prefix="/api/v1/registrations", tags=["identity"])
RegistrationIdPath = Annotated[str, Path(pattern=UUID_PATTERN, max_length=36, description="the registration's id")]


@router.post(
    "",
    response_model=RegistrationCreated,
    status_code=201,
    responses={**documented(400, 409, 413), 429: REGISTRATION_LIMITED},
)
async def create_registration(
    body: RegistrationIn, request: Request, db: SessionDep, res: ResourcesDep
) -> RegistrationCreated:
    """A new account for a person or an organisation (no token needed). It can sign in at once but do nothing else
    until the County DPF of `county` verifies it in a task of program `account_registration` whose `application_id`
    is the `id` returned; then it acts for that person or organisation only. 409: the user name is taken, the ID
    number or credit code already has a verified account of this kind, or a registration of it of this kind is
    waiting for verification. 429: more than 5 registrations from this client address within the hour."""
    set_actor(request, "anonymous")
    client = client_address(request)
    registration = await register(db, body, lambda: count_registration(res.sessions, client))
    try:
        await procedures.start_saved(res.temporal, res.settings.task_queue, registration)
    except Unavailable:
        pass  # saved: the worker's starter opens the County DPF's task once the engine is back
    return RegistrationCreated(id=str(registration.id), status="pending")


@router.get("/{registration_id}", response_model=RegistrationOut, responses=documented(401, 404))
async def get_registration(
    registration_id: RegistrationIdPath, identity: SignedInAccount, db: SessionDep
) -> RegistrationOut:
    """The registration, for its own account (verified or not) and the County DPF of its county."""
    application, binding = await visible_registration(db, registration_id, identity)
    official = binding.username != identity.username
    return RegistrationOut(
        id=str(application.id),
        status=binding.status,  # type: ignore[arg-type]
        username=binding.username,
        kind=binding.kind,  # type: ignore[arg-type]
        name=binding.name,
        county=binding.county,
        id_number_masked=mask_id_number(binding.identifier) if binding.kind == "person" else None,
        disability_cert_number=binding.disability_cert_number if official else None,
        credit_code=binding.identifier if binding.kind != "person" else None,
        reason=binding.reason,
        decided_by=binding.decided_by,
        submitted_at=application.submitted_at,
    )


@router.get("", response_model=list[PendingRegistrationOut], responses=documented(401, 403))
async def list_registrations(
    identity: CurrentUser,
    db: SessionDep,
    paging: PageDep,
    status: Annotated[Literal["pending"], Query(description="only registrations waiting for verification")] = "pending",
    county: Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="a county code")] = None,
) -> list[PendingRegistrationOut]:
    """Registrations waiting for the County DPF's verification, the longest waiting first: role `admin` (every
    county, or `county`) and `county_dpf` (its own county only: another `county` is 403); 403 for anyone else.
    `overdue` when one has waited past its task's due date."""
    wanted = visible_county(identity, county)
    return await pending_registrations(db, wanted, datetime.now(UTC), limit=paging.limit, offset=paging.offset)
