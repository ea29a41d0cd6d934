"""The API side of program P and of the flexible-employment insurance subsidy: workflow inputs, events, admission.

Admission runs inside the submission's transaction, with the person's row locked, before the application row is
written: a person who holds the other of the two mutually exclusive subsidies is refused at once with 409 and the
reason code, in either order. Two requests at the same moment queue on that lock; the workflows take the same lock
again when a subsidy actually starts, so neither order nor timing lets both run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.db.person_holds import flexible_insurance_held, graduate_hiring_held, lock_person, placement_held
from subsidy.programs.graduate_hiring_subsidy.rules import EXCLUSIVE_WITH_GRADUATE_HIRING_SUBSIDY
from subsidy.programs.model import StartContext
from subsidy.programs.public_welfare.contracts import (
    POST_PROGRAM,
    FlexibleInsuranceInput,
    PlacementInput,
    PostCollectionInput,
    PostDeclarationInput,
)
from subsidy.programs.public_welfare.form import (
    FlexibleInsuranceForm,
    PostCollectionForm,
    PublicWelfarePlacementForm,
    PublicWelfarePostForm,
)
from subsidy.programs.public_welfare.rules import (
    EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE,
    EXCLUSIVE_WITH_PUBLIC_WELFARE_POST,
)
from subsidy.workflows.contracts import Actor, EventInput

POST_EVENTS = ("withdrawn",)
PLACEMENT_EVENTS = ("objection", "employment_ended", "withdrawn")
FLEXIBLE_EVENTS = ("employment_ended", "withdrawn")


# ---- workflow inputs --------------------------------------------------------------------------------


def post_input(context: StartContext, form: PublicWelfarePostForm) -> PostDeclarationInput:
    return PostDeclarationInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        year=form.year,
        employer_credit_code=form.employer.credit_code,
        posts=form.post_messages(),
        policy=context.policy,
    )


def placement_input(context: StartContext, form: PublicWelfarePlacementForm) -> PlacementInput:
    assert context.person_id is not None
    return PlacementInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        person_id=context.person_id,
        post_application_id=form.post_application_id,
        post_number=form.post_number,
        start_date=form.start_date,
        sex=form.person.sex,
        birth_date=form.person.birth_date,
        female_category=form.person.retirement_category,
        severe_disability=form.person.severe_disability,
        special_hardship=form.person.special_hardship,
        policy=context.policy,
        override_reason=form.override_reason,
    )


def flexible_input(context: StartContext, form: FlexibleInsuranceForm) -> FlexibleInsuranceInput:
    assert context.person_id is not None
    return FlexibleInsuranceInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        person_id=context.person_id,
        start_date=form.start_date,
        policy=context.policy,
    )


def collection_input(context: StartContext, form: PostCollectionForm) -> PostCollectionInput:
    raise Forbidden("the yearly collection is opened by the declarations themselves")


# ---- events ------------------------------------------------------------------------------------------


def _event(allowed: tuple[str, ...], what: str) -> Callable[[Application, EventIn, Actor], EventInput]:
    def build(application: Application, event: EventIn, actor: Actor) -> EventInput:
        if event.type not in allowed:
            raise Invalid("type", f"{event.type} is not an event of {what}")
        if event.corrected is not None or event.attendance is not None or event.actual_cost is not None:
            raise Invalid("type", f"a {event.type} event carries only a date and a note")
        return EventInput(type=event.type, actor=actor, date=event.date, note=event.note)

    return build


post_event = _event(POST_EVENTS, "a post declaration")
placement_event = _event(PLACEMENT_EVENTS, "a placement")
flexible_event = _event(FLEXIBLE_EVENTS, "the flexible-employment insurance subsidy")
collection_event = _event((), "the yearly collection")


# ---- admission --------------------------------------------------------------------------------------


async def admit_placement(
    session: AsyncSession, form: PublicWelfarePlacementForm, person_id: uuid.UUID | None, username: str
) -> str:
    """The post's county, after the exclusivity rule; the employer must be the one who declared the post."""
    assert person_id is not None
    try:
        post_application_id = uuid.UUID(form.post_application_id)
    except ValueError:
        raise Invalid("post_application_id", "not the id of a post declaration") from None
    await lock_person(session, person_id)
    declaration = await session.scalar(
        select(Application).where(Application.id == post_application_id, Application.program == POST_PROGRAM)
    )
    if declaration is None:
        raise Invalid("post_application_id", "no post declaration has this id")
    if declaration.submitted_by != username:
        raise Forbidden("a person is proposed for a post by the employer who declared it")
    if await flexible_insurance_held(session, person_id):
        raise Conflict(
            f"{EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE}: the person receives the flexible-employment social "
            "insurance subsidy, which excludes a public-welfare post subsidy"
        )
    if await graduate_hiring_held(session, person_id):
        raise Conflict(
            f"{EXCLUSIVE_WITH_GRADUATE_HIRING_SUBSIDY}: the person's employment is subsidised as a graduate hire, "
            "which excludes a public-welfare post subsidy"
        )
    return declaration.county


async def admit_flexible(
    session: AsyncSession, form: FlexibleInsuranceForm, person_id: uuid.UUID | None, username: str
) -> str | None:
    assert person_id is not None
    await lock_person(session, person_id)
    if await placement_held(session, person_id):
        raise Conflict(
            f"{EXCLUSIVE_WITH_PUBLIC_WELFARE_POST}: the person holds a public-welfare post, whose subsidy excludes "
            "the flexible-employment social insurance subsidy"
        )
    return None
