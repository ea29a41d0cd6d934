"""Accounts act for whom they are bound to: the look-up, the check at submission, and registration.

A person's account is bound to that person's resident ID, an employer's, provider's or agency's to its credit code
(`account_bindings`, verified by the County DPF in a task of program `account_registration`). At submission the
person or organisation an application names must be the caller's own, checked before anything that could tell the
caller about someone else (the person's row, eligibility, exclusivity). A County DPF official may file a rent or
flexible-insurance application for a person of their county at the service window; they are then its submitter,
so the workflows' separation of duties keeps them from deciding it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.passwords import password_problem
from subsidy.api.read_model import CITY_WIDE_ROLES, mask_id_number
from subsidy.api.security import Identity, hash_password
from subsidy.db.audit_chain import append_audit
from subsidy.db.binding_models import AccountBinding
from subsidy.db.bindings_lookup import verified_holder
from subsidy.db.models import Application, User
from subsidy.programs.account_registration.contracts import REGISTRATION_PROGRAM
from subsidy.programs.account_registration.form import RegistrationIn
from subsidy.programs.registry import PROGRAMS
from subsidy.workflows.contracts import workflow_id_for

ACCOUNT_NOT_VERIFIED = "account_not_verified"
NOT_BOUND_TO_THIS_PERSON = "not_bound_to_this_person"
NOT_BOUND_TO_THIS_ORGANISATION = "not_bound_to_this_organisation"
NOT_VERIFIED_MESSAGE = (
    f"{ACCOUNT_NOT_VERIFIED}: the County Disabled Persons' Federation has not verified whom this account acts for; "
    "until then it can only read /api/v1/me and its registration"
)
USERNAME_TAKEN = "username_taken"
# The same words whoever holds the ID number or credit code: nothing about that account or its applications.
REGISTRATION_REFUSED = (
    "registration_refused: this ID number or credit code cannot be registered again. If it is yours, sign in with "
    "your account or ask your County Disabled Persons' Federation at the service window"
)
# While one registration of a number waits for verification, another is refused in words that name nobody: no
# user name, county or date. That one is waiting does show — to a caller who already knows the number, at most
# `REGISTRATION_MAX` numbers an hour from one address (subsidy/api/registration_limits.py); hiding it would leave
# strangers free to pile pending registrations on someone's number (README "Accounts act for whom they are bound to").
REGISTRATION_PENDING = (
    "registration_pending: a registration for this number is already waiting for verification; ask the County "
    "Disabled Persons' Federation"
)


async def binding_of(session: AsyncSession, username: str) -> AccountBinding | None:
    """Whom the account acts for (any status), looked up by user name; None for officials."""
    found: AccountBinding | None = await session.get(AccountBinding, username)
    return found


def acts_for_out(binding: AccountBinding | None) -> dict[str, str] | None:
    """`acts_for` of `/me` and the pages' banner: the ID number masked, an organisation's credit code in full."""
    if binding is None:
        return None
    out = {"kind": binding.kind, "name": binding.name, "status": binding.status}
    if binding.kind == "person":
        out["id_number_masked"] = mask_id_number(binding.identifier)
    else:
        out["credit_code"] = binding.identifier
    return out


async def admit_filer(session: AsyncSession, identity: Identity, program_code: str, form: BaseModel) -> bool:
    """Refuse (403) an application for anyone but the caller's own person or organisation. True when a County DPF
    official files it at the service window for a person of their county."""
    program = PROGRAMS.get(program_code)
    party = program.bound_party if program is not None else None
    if party is None:
        return False
    if identity.has("county_dpf") and party.window_county is not None:
        if identity.county is None or party.window_county(form) != identity.county:
            raise Forbidden("a County DPF official files at the service window for persons of their own county only")
        return True
    binding = await binding_of(session, identity.username)
    if binding is None or binding.status != "verified" or binding.kind != party.kind:
        raise Forbidden(NOT_VERIFIED_MESSAGE)
    if party.identifier is None:
        return False
    named = party.identifier(form)
    if party.unnamed_is_own and named is None:
        return False  # a class plan that does not name its provider is the signed-in provider's
    if named != binding.identifier:
        # The same answer whoever the form names, before anything about that person is read.
        what = "person" if party.kind == "person" else "organisation"
        raise Forbidden(f"{party.refusal}: this account acts only for the {what} it is bound to")
    return False


# ---- registration -------------------------------------------------------------------------------------


async def register(
    session: AsyncSession, body: RegistrationIn, count: Callable[[], Awaitable[None]] | None = None
) -> Application:
    """The account (no role yet), its pending binding and the registration's row; the caller starts the workflow.

    `count` (the client's limit) runs once the body and password are acceptable, before the number is looked at."""
    record = body.record()
    problem = password_problem(body.password, user_inputs=(record.username, record.name))
    if problem is not None:
        raise Invalid("password", problem)
    if count is not None:
        await count()
    if await verified_holder(session, record.kind, record.identifier) is not None:
        raise Conflict(REGISTRATION_REFUSED)
    # One pending registration per number and kind: parallel ones queue on this lock until the first commits.
    lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
    await session.execute(lock, {"key": f"registration:{record.kind}:{record.identifier}"})
    waiting = await session.scalar(
        select(AccountBinding.username).where(
            AccountBinding.kind == record.kind,
            AccountBinding.identifier == record.identifier,
            AccountBinding.status == "pending",
        )
    )
    if waiting is not None:
        raise Conflict(REGISTRATION_PENDING)
    # argon2 takes a large fraction of a second by design: off the event loop.
    password_hash = await asyncio.to_thread(hash_password, body.password)
    created = await session.scalar(
        insert(User)
        .values(username=record.username, display_name=record.username, password_hash=password_hash, roles=[])
        .on_conflict_do_nothing(index_elements=[User.username])
        .returning(User.id)
    )
    if created is None:
        raise Conflict(f"{USERNAME_TAKEN}: this user name is taken; choose another")
    registration_id = uuid.uuid4()
    application = Application(
        id=registration_id,
        program=REGISTRATION_PROGRAM,
        status="submitted",
        county=record.county,
        policy_version=None,
        submitted_by=record.username,
        workflow_id=workflow_id_for(str(registration_id)),
        form=record.model_dump(mode="json"),
    )
    session.add(application)
    await session.flush()
    session.add(
        AccountBinding(
            username=record.username,
            kind=record.kind,
            name=record.name,
            identifier=record.identifier,
            disability_cert_number=record.disability_cert_number,
            phone=record.phone,
            county=record.county,
            status="pending",
            registration_id=registration_id,
        )
    )
    await append_audit(
        session,
        kind="submitted",
        actor=record.username,
        at=datetime.now(UTC),
        application_id=registration_id,
        detail={"program": REGISTRATION_PROGRAM, "county": record.county, "kind": record.kind},
    )
    await session.commit()
    await session.refresh(application)
    return application


async def visible_registration(
    session: AsyncSession, registration_id: str, identity: Identity
) -> tuple[Application, AccountBinding]:
    """The registration, for its own account and the County DPF of its county (and city-wide roles); 404 otherwise."""
    try:
        key = uuid.UUID(registration_id)
    except ValueError:
        raise NotFound("no such registration") from None
    found = (
        await session.execute(
            select(Application, AccountBinding)
            .join(AccountBinding, AccountBinding.registration_id == Application.id)
            .where(Application.id == key, Application.program == REGISTRATION_PROGRAM)
        )
    ).first()
    if found is None:
        raise NotFound("no such registration")
    application, binding = found
    own = binding.username == identity.username
    county_official = identity.has("county_dpf") and identity.county == application.county
    if not (own or county_official or identity.has(*CITY_WIDE_ROLES)):
        raise NotFound("no such registration")
    return application, binding
