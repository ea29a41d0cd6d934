"""What a program is: the one declaration the worker, the API, the pages, the archiver and the tests read.

A program's folder (`subsidy/programs/<code>/`) declares a `Program` in its `__init__.py`; `registry.py` lists the
folders, one line each. Submission, decisions, events, the inbox, the archive and the worker are written once and
take from the declaration only what differs: the form and who may apply, the workflow and how its input is built, the
events and their fields, the steps (who decides each, which values each decision asks for), the terminal statuses,
the words (its name, steps and reason codes), whom an application names (for the account bindings), and the
workflow classes, activities and tables the worker and the database need.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.workflows.contracts import Actor


def N_(message: str) -> str:
    """Mark a message for the pages' catalogue; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class StartContext:
    """What every workflow input is made of, besides the form."""

    application_id: str
    submitted_by: str
    applied_on: date
    county: str
    person_id: str | None
    policy: dict[str, Any] | None


@dataclass(frozen=True)
class DecisionValue:
    """A value an official gives with a decision, e.g. the verified monthly rent."""

    name: str
    label: str  # marked with N_, shown translated
    kind: Literal["money", "post_numbers", "date"]
    required_to_approve: bool = False
    hint: str = ""


# The acts of a step that is approved or rejected, never returned (`Step.acts`).
APPROVE_OR_REJECT: tuple[tuple[str, str], ...] = (("approve", N_("Approve")), ("reject", N_("Reject")))


@dataclass(frozen=True)
class Step:
    """A human step of a program's procedure: who decides it, and which values its decision reads."""

    code: str
    role: str
    title: str  # marked with N_
    values: tuple[DecisionValue, ...] = ()
    # Where the deciding official sits: the application's county, or the city/region (None).
    county_of_application: bool = True
    # The decisions the step's page offers, each with its words (marked with N_), in the order shown; empty: approve,
    # return for correction, reject. The workflow's validator stays the authority on what it accepts.
    acts: tuple[tuple[str, str], ...] = ()
    # The decision needs a written reason even to approve (a City override).
    reason_to_approve: bool = False
    # The words of the decision's text box where "Reason" does not fit (a county report's narrative); marked with N_.
    reason_label: str = ""
    reason_hint: str = ""


@dataclass(frozen=True)
class DocumentKind:
    """A document a program asks applicants for, e.g. the lease contract."""

    code: str
    title: str  # marked with N_
    hint: str = ""


@dataclass(frozen=True)
class BoundParty:
    """Whom an application of a program names, in the terms of an account binding: its kind and how to read its
    identifier from the form (None when the form names nobody, e.g. a placement, whose employer declared the post)."""

    kind: Literal["person", "employer", "provider", "agency"]
    identifier: Callable[[Any], str | None] | None
    refusal: str
    # A class plan that does not name its provider is the signed-in provider's.
    unnamed_is_own: bool = False
    # A County DPF official may file it at the service window for a person of their county; how to read that county.
    window_county: Callable[[Any], str] | None = None


def attribute(*path: str) -> Callable[[Any], str | None]:
    """Read `form.a.b` as text, None when any part is missing."""

    def read(form: Any) -> str | None:
        for name in path:
            form = getattr(form, name, None)
            if form is None:
                return None
        return str(form)

    return read


@dataclass(frozen=True)
class NewEmployment:
    """What of a program the annual report counts as new employment: an application approved at one of `steps`
    that is now in one of `statuses` (it took up the job, the business or the post), in the year of that approval."""

    steps: tuple[str, ...]
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class Program:
    code: str
    title: str  # marked with N_
    form: type[BaseModel]
    applicant_roles: tuple[str, ...]
    workflow: str
    # The person whose entitlement the application concerns, as (id_number, name); None for class or post plans.
    person: Callable[[Any], tuple[str, str] | None]
    county: Callable[[Any], str]
    workflow_input: Callable[[StartContext, Any], Any]
    # The argument of the workflow's `event` update for an API event (raise `Invalid` for one that does not apply).
    event_input: Callable[[Application, EventIn, Actor], Any]
    # Checks that need the database, run in the submission's transaction after the person's row is written (and
    # so locked): raise a ServiceError to refuse, e.g. 409 for an entitlement that excludes this one. Returns the
    # county when the form alone does not name it (a placement's is its post's), else None.
    admit: Callable[[AsyncSession, Any, uuid.UUID | None, str], Awaitable[str | None]] | None = None
    # The fields an event of each type may carry besides `type`, `date` and `note` (e.g. a rent correction's
    # `corrected`); any other field given is refused, naming it, rather than silently dropped.
    event_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The statuses in which the procedure has ended: nothing more can happen, and its history can be archived.
    terminal_statuses: tuple[str, ...] = ("rejected", "completed", "terminated", "withdrawn")
    steps: tuple[Step, ...] = ()
    # The words of the reason codes its rules give (code -> English, marked with N_).
    reasons: Mapping[str, str] = field(default_factory=dict)
    bound_party: BoundParty | None = None
    # What the worker runs: the workflow classes (several for a family of procedures) and activity classes
    # (built with the session factory, each with `all()`); shared ones may be named by several programs.
    workflow_classes: tuple[type, ...] = ()
    activities: tuple[type, ...] = ()
    # The SQLAlchemy models modules of its own tables (imported for Alembic and the worker).
    models: tuple[ModuleType, ...] = ()
    # The section of a policy version that holds its parameters (`PolicyVersion.<section>`), if any.
    policy_section: str | None = None
    # The page where its applicant follows an application (`{id}` is the application's id), when it has its own.
    own_page: str | None = None
    # The evidence documents an application of it may carry (files: PDF, JPEG or PNG).
    documents: tuple[DocumentKind, ...] = ()
    # The module of its own pages (an APIRouter named `router`), by name: the pages import the registry for their
    # words, so the registry cannot import the pages; `install_pages` imports it when the pages are installed.
    pages: str | None = None
    # The module that puts its applications in words for the officials' task page, by name (the pages import the
    # registry): `sections(db, _, application, task, county_name)` -> [Section], `summary(_, task, application)` ->
    # the inbox's line, `preview(db, _, application, task, decision, values, today)` -> Preview for an approval
    # (see subsidy/api/pages/task_views.py). None for the programs that task_views.py describes itself.
    task_words: str | None = None
    # Whether, and how, it counts towards the annual report's new employment.
    new_employment: NewEmployment | None = None

    def event(self, application: Application, event: EventIn, actor: Actor) -> Any:
        """The argument of the workflow's `event` update, after refusing any field this event does not use."""
        allowed = {"type", "date", "note", *self.event_fields.get(event.type, ())}
        for name in EventIn.model_fields:
            if name not in allowed and getattr(event, name) is not None:
                raise Invalid(name, f"{name} is not a field of a {event.type} event of {self.code}")
        return self.event_input(application, event, actor)

    def step(self, code: str) -> Step | None:
        return next((step for step in self.steps if step.code == code), None)
