"""The mechanics every procedure's workflow shares, written once: database steps, human steps, decisions, stops,
payment schedules.

A procedure's workflow class derives from `Procedure` and says only what differs: its steps (`STEPS`: which
decisions each takes, whether it needs a reason to approve, whether the officials of earlier steps may approve it),
what a decision does besides being recorded (`decision_effects` before the record, `decision_recorded` after), the
values a step checks (`check_values`), and its events (`EVENTS`: the method that checks and the method that applies
each type). Everything else is here:

- `step`: one database step, a local activity since the type's patch (`DB_PATCH`), a regular one before it;
- `human_step`: open a task unless the procedure has stopped, wait for its decision or a stop; past its due date
  the task is marked overdue and an escalation task opens beside it; the tasks are settled when it returns;
- the `decide` update and its validator: the task is open, the role and county are the task's, never the
  submitter, separation of duties, the decisions the step takes, a reason for every refusal; re-checked under the
  lock, since another decision or a stop may have come between the validator and the handler;
- `handle_event` / `check_event` for each workflow's `event` update, and `stop` (withdrawal, closure, employment
  ended...): the status, the open tasks cancelled, the months not yet paid cancelled;
- `pay_schedule`: each period paid when it ends (periods already over at once), `continue_as_new` after
  `PAYMENTS_PER_RUN` payments, `completed` after the last; `pay_once` for a single payment (a reward, a year);
- `wait_until`: a durable timer that a stop cuts short (a year of employment);
- the shared policy data: `minimum_wage` (the standard in force for a county on a day), and granting or releasing
  what an application holds in the person registry (`grant_person_records`, `release_person_records`).

One step at a time: the run and every message handler take `self._lock` around their steps, so a withdrawal never
slips between a record and the task it opens. The command sequence of every path is what each workflow issued
before these mechanics were shared, so the recorded histories replay unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Protocol

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import (
        CHANGE_STATUS,
        ESCALATE_OVERDUE_TASK,
        GRANT_PERSON_RECORDS,
        MINIMUM_WAGE_ON,
        OPEN_TASK,
        POST_PAYMENT,
        RECORD_DECISION,
        RELEASE_PERSON_RECORDS,
    )
    from subsidy.workflows.common import CHINA, check_decision, db_step, end_of_day, require_role
    from subsidy.workflows.contracts import (
        CONFLICT,
        FORBIDDEN,
        INVALID,
        Actor,
        DecideInput,
        DecideResult,
        DecisionRecord,
        DecisionToRecord,
        EventResult,
        OpenTaskInput,
        OverdueInput,
        PaymentInput,
        PaymentResult,
        ScheduleMonth,
        StatusChange,
        WorkflowView,
    )
    from subsidy.workflows.shared_data_contracts import MinimumWageQuery, MinimumWageUsed, PersonRecordsChange

PAYMENTS_PER_RUN = 12


@dataclass(frozen=True)
class StepRule:
    """How an official decides one step of a procedure."""

    decisions: tuple[str, ...] = ("approve", "reject", "return")
    # The refusal of a decision the step does not take, in the words of the step.
    refusal: str = "this step is approved or rejected: reject it with a reason"
    # A City override is approved with a written reason too.
    reason_to_approve: bool = False
    reason_refusal: str = "reason: this step needs a written reason"
    # False for a step whose officials also decided its earlier rounds by rule (a county's yearly collection).
    separation_of_duties: bool = True
    # A filing records what happened: it stays open, and can be decided, after the procedure has stopped; its
    # decision does not wake the run.
    settles_the_run: bool = True


@dataclass(frozen=True)
class DecisionEffects:
    """What a decision comes to, worked out before it is recorded."""

    new_status: str
    values: Mapping[str, str] | None = None  # what the audit records; the request's values when None
    schedule: Sequence[ScheduleMonth] = ()


class EventRequest(Protocol):
    type: str
    actor: Actor
    date: date | None
    note: str | None


@dataclass(frozen=True)
class EventRule:
    """One event type: the method that refuses what does not apply, and the method that applies it."""

    check: str
    apply: str


@dataclass
class _Tasks:
    """Where a workflow keeps its open tasks and decisions when its state does not carry them."""

    open: dict[str, OpenTaskInput] = field(default_factory=dict)
    decisions: list[DecisionRecord] = field(default_factory=list)


class Procedure:
    # The type's `workflow.patched` id for running its database steps as local activities (its histories from before
    # ran them as regular activities); None for a type that was born with local activities.
    DB_PATCH: ClassVar[str | None] = None
    STEPS: ClassVar[Mapping[str, StepRule]] = {}
    EVENTS: ClassVar[Mapping[str, EventRule]] = {}
    # The words for "this kind of thing" in the refusal of an event the procedure does not know.
    EVENT_SUBJECT: ClassVar[str] = "this procedure"

    _input: Any
    _lock: asyncio.Lock
    _decided: DecideInput | None
    _stopped: str | None

    def _begin(self, input: Any) -> None:
        """Called first in `__init__`, with the workflow input (None for a workflow that takes it in `run`)."""
        self._input = input
        self._lock = asyncio.Lock()
        self._decided = None
        self._stopped = None
        self._tasks = _Tasks()

    # ---- where each workflow keeps what the mechanics read ----------------------------------------

    @property
    def open_tasks(self) -> MutableMapping[str, OpenTaskInput]:
        return self._tasks.open

    @property
    def decisions(self) -> MutableSequence[DecisionRecord]:
        return self._tasks.decisions

    @property
    def status(self) -> str:
        raise NotImplementedError

    @status.setter
    def status(self, value: str) -> None:
        raise NotImplementedError

    @property
    def application_id(self) -> str:
        return str(self._input.application_id)

    @property
    def submitted_by(self) -> str:
        return str(self._input.submitted_by)

    @property
    def schedule(self) -> Sequence[Any]:
        """The periods to pay (each with `status` planned | paid | cancelled); none for a procedure without."""
        return ()

    def settled(self) -> bool:
        return self._decided is not None or self._stopped is not None

    # ---- database steps ---------------------------------------------------------------------------

    async def step(self, activity: str, arg: Any, *, result_type: type | None = None) -> Any:
        return await db_step(activity, arg, result_type=result_type, patch=self.DB_PATCH)

    async def change_status(self, change: StatusChange) -> None:
        await self.step(CHANGE_STATUS, change)
        self.status = change.status

    def task(
        self,
        step: str,
        role: str,
        county: str | None,
        summary: str,
        *,
        round: int = 1,
        due_at: datetime | None = None,
        due_is_estimate: bool = False,
        program: str | None = None,
    ) -> OpenTaskInput:
        return OpenTaskInput(
            application_id=self.application_id,
            workflow_id=workflow.info().workflow_id,
            program=program if program is not None else self._input.program,
            step=step,
            round=round,
            role=role,
            county=county,
            due_at=due_at,
            due_is_estimate=due_is_estimate,
            summary=summary,
        )

    async def open_task(self, task: OpenTaskInput) -> str:
        """Open a task (the caller holds the lock)."""
        task_id: str = await self.step(OPEN_TASK, task, result_type=str)
        self.open_tasks[task_id] = task
        return task_id

    # ---- a human step -----------------------------------------------------------------------------

    async def human_step(
        self, task: OpenTaskInput, *, escalation: Callable[[], OpenTaskInput] | None = None
    ) -> str | None:
        """Open `task` and wait for it: the decision taken, or None when the procedure stopped first.

        With a due date and an `escalation`, a task still undecided when it is due is marked overdue and the
        escalation task opens beside it; a decision on either settles both.
        """
        async with self._lock:
            if self._stopped is not None:
                return None
            task_id = await self.open_task(task)
        return await self.await_decision(task_id, escalation=escalation)

    async def await_decision(
        self, task_id: str, *, escalation: Callable[[], OpenTaskInput] | None = None
    ) -> str | None:
        """Wait for the decision on the open task `task_id` (see `human_step`)."""
        task = self.open_tasks[task_id]
        if task.due_at is not None and escalation is not None:
            try:
                await workflow.wait_condition(self.settled, timeout=max(task.due_at - workflow.now(), timedelta(0)))
            except TimeoutError:
                async with self._lock:
                    if not self.settled():
                        escalated = escalation()
                        escalation_id: str = await self.step(
                            ESCALATE_OVERDUE_TASK,
                            OverdueInput(self.application_id, task_id, escalated),
                            result_type=str,
                        )
                        self.open_tasks[escalation_id] = escalated
                await workflow.wait_condition(self.settled)
        else:
            await workflow.wait_condition(self.settled)
        for open_id, open_task in list(self.open_tasks.items()):
            if self.STEPS.get(open_task.step, StepRule()).settles_the_run:
                del self.open_tasks[open_id]
        if self._stopped is not None or self._decided is None:
            return None
        decision, self._decided = self._decided.decision, None
        return decision

    # ---- decisions --------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        """What the decision does before it is recorded (claims, settlements); raise to refuse it, writing nothing."""
        raise NotImplementedError

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        """What follows the record (a report to other workflows, the procedure's own state)."""

    def check_values(self, task: OpenTaskInput, request: DecideInput) -> None:
        """Refuse values this step cannot take (a validator: no steps, no state changes)."""

    @workflow.update
    async def decide(self, request: DecideInput) -> DecideResult:
        async with self._lock:
            # The validator ran before the lock: another decision or a stop may have come first. Only that is
            # checked again here: the validator's other rules are newer than some recorded histories, and a
            # handler runs on replay where a validator does not.
            task = self.open_tasks.get(request.task_id)
            rule = self.STEPS.get(task.step, StepRule()) if task is not None else StepRule()
            if task is None or (rule.settles_the_run and self.settled()):
                raise ApplicationError("the task was settled a moment ago", type=CONFLICT, non_retryable=True)
            effects = await self.decision_effects(task, request)
            now = workflow.now()
            await self.step(
                RECORD_DECISION,
                DecisionToRecord(
                    application_id=self.application_id,
                    task_id=request.task_id,
                    step=task.step,
                    decision=request.decision,
                    actor=request.actor,
                    at=now,
                    reason=request.reason,
                    values=dict(request.values if effects.values is None else effects.values),
                    new_status=effects.new_status,
                    schedule=list(effects.schedule),
                    settles_round=rule.settles_the_run,
                ),
            )
            self.decisions.append(
                DecisionRecord(
                    request.task_id, task.step, request.decision, request.actor.username, now, request.reason
                )
            )
            self.status = effects.new_status
            await self.decision_recorded(task, request, effects)
            # Last: the run wakes on it, and must find what the decision did (a collection's report) done.
            if rule.settles_the_run:
                self._decided = request
            return DecideResult(request.task_id, request.decision, effects.new_status)

    @decide.validator
    def _validate_decision(self, request: DecideInput) -> None:
        task = self.open_tasks.get(request.task_id)
        rule = self.STEPS.get(task.step, StepRule()) if task is not None else StepRule()
        if task is None or (rule.settles_the_run and self.settled()):
            raise ApplicationError("the task is not open", type=CONFLICT)
        check_decision(
            request,
            role=task.role,
            county=task.county,
            submitted_by=self.submitted_by,
            decided_by=[d.by for d in self.decisions] if rule.separation_of_duties else (),
        )
        if request.decision not in rule.decisions:
            raise ApplicationError(rule.refusal, type=INVALID)
        if rule.reason_to_approve and not (request.reason or "").strip():
            raise ApplicationError(rule.reason_refusal, type=INVALID)
        self.check_values(task, request)

    # ---- events -----------------------------------------------------------------------------------

    async def handle_event(self, request: EventRequest) -> EventResult:
        """The body of each workflow's `event` update."""
        async with self._lock:
            # Re-check under the lock: the step that ran meanwhile may have changed what applies.
            self.check_event(request)
            result: EventResult = await getattr(self, self.EVENTS[request.type].apply)(request)
            return result

    def check_event(self, request: EventRequest) -> None:
        """The body of each workflow's `event` validator."""
        rule = self.EVENTS.get(request.type)
        if rule is None:
            raise ApplicationError(f"type: {request.type} is not an event of {self.EVENT_SUBJECT}", type=INVALID)
        getattr(self, rule.check)(request)

    def require_submitter(self, actor: Actor, refusal: str) -> None:
        if actor.username != self.submitted_by:
            raise ApplicationError(refusal, type=FORBIDDEN)

    def require_submitter_or_official(
        self, actor: Actor, roles: Iterable[str], county: str | None, refusal: str | None = None
    ) -> None:
        """The submitter, or an official of one of `roles` for `county`."""
        if actor.username != self.submitted_by:
            require_official(actor, roles, county, refusal)

    def require_open(self, allowed: bool, refusal: str) -> None:
        """Refuse an event that does not apply now (409): the procedure stopped, or is past the point it applies."""
        if not allowed or self._stopped is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    @staticmethod
    def require_date(request: EventRequest) -> None:
        if request.date is None:
            raise ApplicationError("date: the date of the event is required", type=INVALID)

    async def stop(
        self,
        request: EventRequest,
        status: str,
        *,
        detail: dict[str, Any] | None = None,
        cancel_open_tasks: bool = True,
        cancel_planned_months: bool = False,
    ) -> EventResult:
        """End the procedure on an event: the new status; its open tasks and unpaid months cancelled as asked."""
        await self.change_status(
            StatusChange(
                self.application_id,
                status,
                request.actor.username,
                request.type,
                detail=detail if detail is not None else event_detail(request),
                cancel_open_tasks=cancel_open_tasks,
                cancel_planned_months=cancel_planned_months,
            )
        )
        self._stopped = request.type
        for month in self.schedule:
            if month.status == "planned":
                month.status = "cancelled"
        if cancel_open_tasks:
            self.open_tasks.clear()
        return EventResult(request.type, status)

    # ---- payments ---------------------------------------------------------------------------------

    async def pay_schedule(self, pay: Callable[[Any], Awaitable[None]], continue_with: Callable[[], Any]) -> None:
        """Pay each planned period of `schedule` when it ends, then `completed`; stop early on a stop event.

        Periods already over are paid at once (arrears at approval). After `PAYMENTS_PER_RUN` payments the run
        continues as new with `continue_with()`, so years of monthly timers never pile up in one history.
        """
        paid_this_run = 0
        for month in self.schedule:
            if month.status != "planned":
                continue
            if paid_this_run >= PAYMENTS_PER_RUN:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(continue_with())
            month_over = end_of_day(month.end - timedelta(days=1))
            while workflow.now() < month_over and self._stopped is None:
                try:
                    await workflow.wait_condition(
                        lambda: self._stopped is not None, timeout=month_over - workflow.now()
                    )
                except TimeoutError:
                    pass
            async with self._lock:
                if self._stopped is not None:
                    return
                await pay(month)
                month.status = "paid"
            paid_this_run += 1
        async with self._lock:
            if self._stopped is None:
                await self.change_status(StatusChange(self.application_id, "completed", "system", "completed"))

    async def pay_once(self, payment: ScheduleMonth) -> None:
        """Post one payment now (a reward, a year of a subsidy) with the shares its decision recorded; the caller holds
        the lock. Posting is idempotent per application and period, so a retried activity pays once."""
        await self.step(
            POST_PAYMENT,
            PaymentInput(
                application_id=self.application_id,
                program=self._input.program,
                county=self._input.county,
                period=payment.period,
                amount=payment.amount,
                city_share=payment.city_share,
                county_share=payment.county_share,
            ),
            result_type=PaymentResult,
        )
        payment.status = "paid"

    # ---- waiting ----------------------------------------------------------------------------------

    async def wait_until(self, moment: datetime) -> bool:
        """A durable timer to `moment` that a stop cuts short: True when the moment came, False on a stop."""
        while workflow.now() < moment and self._stopped is None:
            try:
                await workflow.wait_condition(lambda: self._stopped is not None, timeout=moment - workflow.now())
            except TimeoutError:
                pass
        return self._stopped is None

    # ---- shared policy data -----------------------------------------------------------------------

    async def minimum_wage(self, county: str, on: date) -> MinimumWageUsed:
        """The monthly minimum wage standard in force for `county` on `on` (its answer is in the history)."""
        used: MinimumWageUsed = await self.step(
            MINIMUM_WAGE_ON, MinimumWageQuery(county, on), result_type=MinimumWageUsed
        )
        return used

    async def grant_person_records(self, reason: str) -> None:
        """What the application claimed in the person registry is granted (it was approved)."""
        await self.step(GRANT_PERSON_RECORDS, PersonRecordsChange(self.application_id, reason), result_type=int)

    async def release_person_records(self, reason: str) -> None:
        """What the application held in the person registry is given back (it ended unpaid, or ended early)."""
        await self.step(RELEASE_PERSON_RECORDS, PersonRecordsChange(self.application_id, reason), result_type=int)

    # ---- the end ----------------------------------------------------------------------------------

    async def finish(self) -> str:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    def today(self) -> date:
        return workflow.now().astimezone(CHINA).date()

    @workflow.query
    def view(self) -> WorkflowView:
        return WorkflowView(
            status=self.status,
            open_task_id=next(iter(self.open_tasks), None),
            policy_version=self.policy_version(),
            schedule=self.schedule_view(),
        )

    def policy_version(self) -> str | None:
        version = getattr(self, "_version", None)
        return version.code if version is not None else None

    def schedule_view(self) -> list[ScheduleMonth]:
        return []


def require_official(actor: Actor, roles: Iterable[str], county: str | None, refusal: str | None = None) -> None:
    """An official holding one of `roles`, for `county`; `refusal` is the answer to someone holding none of them."""
    roles = tuple(roles)
    held = next((role for role in roles if role in actor.roles), None)
    if held is None and refusal is not None:
        raise ApplicationError(refusal, type=FORBIDDEN)
    require_role(actor, held or roles[0], county)


def event_detail(request: EventRequest) -> dict[str, Any]:
    return {"date": request.date.isoformat() if request.date else None, "note": request.note}
