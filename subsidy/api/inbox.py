"""The approvers' inbox: listing, claiming, releasing and deciding tasks. Used by the JSON API and the pages."""

from __future__ import annotations

import functools
import operator
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, String, cast, func, literal_column, or_, select, text, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from temporalio.client import Client

from subsidy.api import procedures
from subsidy.api.decision_values import checked_values
from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.read_model import task_scope, task_scope_parts
from subsidy.api.security import Identity
from subsidy.db.models import Application, Person, Task
from subsidy.forms.text import invisible_characters
from subsidy.payments.tasks import PAYMENT_STEPS
from subsidy.workflows.contracts import DecideInput, DecideResult

OPEN_STATUSES = ("open", "claimed")
BEING_DECIDED = "another decision on this task is being recorded at this moment"
INVISIBLE_CHARACTERS = "remove control characters and invisible formatting characters"


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None  # None: open and claimed
    program: str | None = None
    application_id: uuid.UUID | None = None
    # The pages' search and filters: a reference (the id's first characters) or a name; a step; overdue only;
    # claimed by the caller only; and the order (a key of INBOX_SORTS).
    search: str | None = None
    step: str | None = None
    overdue: bool = False
    mine: bool = False
    sort: str = "due"

    @property
    def narrowed(self) -> bool:
        """Any of the pages' filters or another order than the indexes': the plain query serves it."""
        return bool(self.search or self.step or self.overdue or self.mine or self.sort != "due")


def inbox_query(identity: Identity, wanted: InboxFilter) -> Select[tuple[Task]]:
    query = select(Task).where(task_scope(identity))
    query = query.where(Task.status == wanted.status) if wanted.status else query.where(Task.status.in_(OPEN_STATUSES))
    if wanted.program:
        query = query.where(Task.program == wanted.program)
    if wanted.application_id:
        query = query.where(Task.application_id == wanted.application_id)
    if wanted.step:
        query = query.where(Task.step == wanted.step)
    if wanted.overdue:
        query = query.where(Task.overdue.is_(True))
    if wanted.mine:
        query = query.where(Task.claimed_by == identity.username)
    if wanted.search:
        query = query.where(_found(wanted.search))
    return query


# The names an application is known by, as its form states them: the person's (the people row), the business's,
# the employer's or provider's, the course's, a registrant's.
_FORM_NAMES = (
    ("business", "name"),
    ("employer", "name"),
    ("provider", "name"),
    ("person", "name"),
    ("course", "title"),
    ("name",),
)


def _escaped(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _found(search: str) -> ColumnElement[bool]:
    """Tasks whose application's reference (the id's first characters, as the pages show it) or one of its names
    contains the text searched for."""
    wanted = _escaped(search.strip())
    reference = cast(Task.application_id, String).ilike(wanted.lower() + "%", escape="\\")
    names = [Application.form[path].astext.ilike(f"%{wanted}%", escape="\\") for path in _FORM_NAMES]
    person = select(Person.id).where(Person.id == Application.person_id, Person.name.ilike(f"%{wanted}%", escape="\\"))
    named = select(Application.id).where(Application.id == Task.application_id, or_(*names, person.exists()))
    return or_(reference, named.exists())


# Earliest due first (no due date last), then oldest, then id: the order of the inbox indexes after their range.
INBOX_ORDER = (Task.due_at.asc().nulls_last(), Task.created_at, Task.id)
# The orders the inbox page offers, by the column sorted on ("-": the other way).
INBOX_SORTS = {
    "due": INBOX_ORDER,
    "-due": (Task.due_at.desc().nulls_last(), Task.created_at.desc(), Task.id),
    "created": (Task.created_at, Task.id),
    "-created": (Task.created_at.desc(), Task.id),
    "program": (Task.program, *INBOX_ORDER),
    "-program": (Task.program.desc(), *INBOX_ORDER),
    "step": (Task.step, *INBOX_ORDER),
    "-step": (Task.step.desc(), *INBOX_ORDER),
    "status": (Task.status, *INBOX_ORDER),
    "-status": (Task.status.desc(), *INBOX_ORDER),
}
# The same by column name, for the merged ranges (a UNION is ordered by its output columns).
_MERGED_ORDER = (literal_column("due_at").asc().nulls_last(), literal_column("created_at"), literal_column("id"))


def inbox_ranges(identity: Identity, wanted: InboxFilter) -> list[Select[tuple[Task]]]:
    """The inbox as disjoint queries, one per part of the caller's scope and status wanted, each one range of an inbox
    index (`ix_tasks_inbox_order`, `ix_tasks_inbox_citywide`) read in page order. Together they are `inbox_query`."""
    statuses = [wanted.status] if wanted.status else list(OPEN_STATUSES)
    ranges = []
    for part in task_scope_parts(identity):
        for status in statuses:
            query = select(Task).where(part, Task.status == status)
            ranges.append(query.where(Task.program == wanted.program) if wanted.program else query)
    return ranges


async def list_inbox(
    session: AsyncSession, identity: Identity, wanted: InboxFilter, limit: int, offset: int
) -> tuple[list[Task], int]:
    """Tasks the caller may act on, oldest due first, and how many there are in all."""
    ranges = inbox_ranges(identity, wanted) if wanted.application_id is None and not wanted.narrowed else []
    if len(ranges) < 2:  # one range, one application's few tasks, or the pages' filters: the plain query serves
        query = inbox_query(identity, wanted)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = INBOX_SORTS.get(wanted.sort, INBOX_ORDER)
        tasks = await session.scalars(query.order_by(*order).limit(limit).offset(offset))
        return list(tasks.all()), int(total)
    # With "county IS NULL OR county = X" and two statuses, Postgres reads every visible task from the heap and
    # sorts them all for one page (10^6 task rows: ~4,000 heap pages a request, see bench/). Range by range, the
    # counts read the index only and the page merges the first `offset + limit` of each range in due order.
    # Plain statements (a sum of counts, a UNION read by `from_statement`): an ORM alias over the UNION cost more
    # Python per request than the query itself.
    counts = [query.with_only_columns(func.count()).scalar_subquery() for query in ranges]
    total = await session.scalar(select(functools.reduce(operator.add, counts))) or 0
    firsts = union_all(*(query.order_by(*INBOX_ORDER).limit(offset + limit) for query in ranges))
    page = firsts.order_by(*_MERGED_ORDER).limit(limit).offset(offset)
    tasks = await session.scalars(select(Task).from_statement(page))
    return list(tasks.all()), int(total)


async def inbox_counts(session: AsyncSession, identity: Identity) -> dict[str, int]:
    """Open, claimed-by-me and overdue counts for the inbox heading."""
    base = select(Task).where(task_scope(identity), Task.status.in_(OPEN_STATUSES)).subquery()
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(base.c.claimed_by == identity.username),
                func.count().filter(base.c.overdue.is_(True)),
            ).select_from(base)
        )
    ).one()
    return {"open": int(row[0]), "mine": int(row[1]), "overdue": int(row[2])}


async def get_task(session: AsyncSession, task_id: str, identity: Identity, *, lock: bool = False) -> Task:
    """The task, if the caller's roles and county may act on it: 404 if there is none, 403 if it is not theirs."""
    try:
        key = uuid.UUID(task_id)
    except ValueError:
        raise NotFound("no such task") from None
    query = select(Task, task_scope(identity)).where(Task.id == key)
    found = (await session.execute(query.with_for_update(of=Task) if lock else query)).first()
    if found is None:
        raise NotFound("no such task")
    task, allowed = found
    if not allowed:
        raise Forbidden("this task belongs to another role or county")
    return task


async def claim(session: AsyncSession, task_id: str, identity: Identity) -> Task:
    task = await get_task(session, task_id, identity, lock=True)
    if task.status == "claimed" and task.claimed_by == identity.username:
        return task
    if task.status != "open":
        raise Conflict(f"the task is {task.status}" + (f" by {task.claimed_by}" if task.claimed_by else ""))
    await session.execute(update(Task).where(Task.id == task.id).values(status="claimed", claimed_by=identity.username))
    await session.refresh(task)
    return task


async def release(session: AsyncSession, task_id: str, identity: Identity) -> Task:
    task = await get_task(session, task_id, identity, lock=True)
    if task.status != "claimed" or task.claimed_by != identity.username:
        raise Conflict("only a task you have claimed can be released")
    await session.execute(update(Task).where(Task.id == task.id).values(status="open", claimed_by=None))
    await session.refresh(task)
    return task


async def decide(
    session: AsyncSession,
    temporal: Client,
    task_id: str,
    identity: Identity,
    decision: str,
    reason: str | None,
    values: dict[str, str],
) -> Task:
    """Send the decision to the workflow, whose validator is the authority; return the task as it is now."""
    # Checked here for the pages as for the API: the workflow would accept such text, and the activity that
    # records the decision could then never store it, retrying for ever with the workflow waiting on it.
    if reason is not None and invisible_characters(reason, multiline=True):
        raise Invalid("reason", INVISIBLE_CHARACTERS)
    if any(invisible_characters(name) or invisible_characters(value) for name, value in values.items()):
        raise Invalid("values", INVISIBLE_CHARACTERS)
    # One decision at a time reaches a task's workflow: of simultaneous decisions the others are refused here, as
    # the ordinary 409 they are, instead of racing into the workflow as updates that Temporal then aborts (and logs
    # as errors). The lock is transaction-scoped and on a key of its own, not the task's row, which the workflow's
    # own step writes while this request waits for the update; it is held until this request's transaction ends.
    if not await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"decide:{task_id}"}
    ):
        raise Conflict(BEING_DECIDED)
    task = await get_task(session, task_id, identity)
    if task.status in ("done", "cancelled"):
        raise Conflict(f"the task is already {task.status}")
    if task.step in PAYMENT_STEPS:
        raise Conflict("a payment task is settled on its payment: the payee corrects the account, or it is cancelled")
    if task.status == "claimed" and task.claimed_by != identity.username:
        raise Conflict(f"the task is claimed by {task.claimed_by}")
    application = await session.get(Application, task.application_id)
    assert application is not None
    values = checked_values(application, task, decision, values)
    result: DecideResult = await procedures.send_decision(
        temporal,
        task.workflow_id,
        DecideInput(
            task_id=str(task.id),
            decision=decision,
            actor=procedures.actor_of(identity),
            reason=reason,
            values=values,
        ),
    )
    await session.refresh(task)
    assert result.task_id == str(task.id)
    return task
