"""The API side of the training subsidy: its workflow input, and its events in the workflow's terms.

An attendance list arrives with resident ID numbers; the workflow never sees them. Each is turned here into
the trainee's line in the stored class plan, so that only lines and hours go into Temporal's history.
"""

from __future__ import annotations

from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.policy.identifiers import IdentifierError, validate_resident_id
from subsidy.policy.money import to_money
from subsidy.programs.model import StartContext
from subsidy.programs.training_subsidy.contracts import (
    COMPLETION_REPORT,
    TRAINING_EVENTS,
    AttendanceLine,
    TrainingEventInput,
    TrainingSubsidyInput,
)
from subsidy.programs.training_subsidy.form import TrainingSubsidyForm
from subsidy.workflows.contracts import Actor


def training_input(context: StartContext, form: TrainingSubsidyForm) -> TrainingSubsidyInput:
    return TrainingSubsidyInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        course=form.course_message(),
        trainee_count=len(form.trainees),
        planned_cost=form.planned_amount(),
        policy=context.policy,
    )


def training_event(application: Application, event: EventIn, actor: Actor) -> TrainingEventInput:
    if event.type not in TRAINING_EVENTS:
        raise Invalid("type", f"{event.type} is not an event of the training subsidy")
    if event.corrected is not None:
        raise Invalid("corrected", "a class plan takes no corrections: withdraw it and file a new one")
    if event.type != COMPLETION_REPORT:
        if event.attendance is not None or event.actual_cost is not None:
            raise Invalid("attendance", f"a {event.type} event carries no attendance or cost")
        return TrainingEventInput(type=event.type, actor=actor, date=event.date, note=event.note)
    if event.actual_cost is None:
        raise Invalid("actual_cost", "the documented actual cost is required, e.g. 6000.00")
    try:
        actual_cost = to_money(event.actual_cost)
    except (ValueError, ArithmeticError):
        raise Invalid("actual_cost", "enter an amount in CNY with at most two decimals, e.g. 6000.00") from None
    if not event.attendance:
        raise Invalid("attendance", "list the attended class hours of each trainee")
    plan = TrainingSubsidyForm.model_validate(application.form)
    attendance: list[AttendanceLine] = []
    for index, entry in enumerate(event.attendance):
        field = f"attendance.{index}.id_number"
        try:
            id_number = validate_resident_id(entry.id_number).number
        except IdentifierError as error:
            raise Invalid(field, error.message) from None
        line = plan.line_of(id_number)
        if line is None:
            raise Invalid(field, "this person is not a trainee of this class")
        attendance.append(AttendanceLine(line=line, hours=entry.hours))
    return TrainingEventInput(
        type=event.type,
        actor=actor,
        date=event.date,
        attendance=attendance,
        actual_cost=actual_cost,
        note=event.note,
    )
