"""Public-welfare post declaration (公益性岗位申报), program P of POLICY.md — 包府办发〔2023〕43号 (一) 2.

"Each year the County DPF collects the employers' post applications of its county and reports them to the County
HR bureau, which reviews and approves them." Two workflows:

`PublicWelfarePostWorkflow`, one per declaration (an employer, a county, a year):
1. pins the policy version; checks the county, the year (this one or the next) and once-a-year per employer;
   ineligible → `rejected` with reason codes and no task; eligible → its posts are recorded, status `under_review`;
2. joins the County DPF's collection of its county and year, and waits for it to be reported (or refused);
3. opens a County HR task; the decision (update `decide`) approves the declaration, optionally rejecting some posts
   (`values.rejected_posts`, e.g. "2,3", with a reason), or rejects it: approved posts have places for placements.
Updates: `decide`, `event` (`withdrawn` by the employer until HR has decided). Signal: `collected`. Query: `view`.

`PostCollectionWorkflow`, one per county and year (id `post-collection-<county>-<year>`): a County DPF task that
sees the county's declarations together (its summary counts them, and grows while it is open); approving it reports
them to County HR, rejecting it (with a reason) refuses them. Declarations arriving later open the next round.
It closes when the year is over. Signal: `join`. Update: `decide`. Query: `view`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import CHANGE_STATUS, OPEN_TASK, RECORD_DECISION
    from subsidy.activities.placement_names import (
        JOIN_POST_COLLECTION,
        RECORD_POST_DECLARATION,
        REFRESH_TASK_SUMMARY,
        REPORT_COLLECTION,
        SETTLE_POSTS,
    )
    from subsidy.policy.placement import declaration_reasons
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.workflows.common import (
        POST_COLLECTION_DB_STEPS,
        POST_DECLARATION_DB_STEPS,
        check_decision,
        db_step,
        end_of_day,
        local_db_steps,
    )
    from subsidy.workflows.contracts import (
        CONFLICT,
        FORBIDDEN,
        INVALID,
        DecideInput,
        DecideResult,
        DecisionRecord,
        DecisionToRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
        StatusChange,
        WorkflowView,
    )
    from subsidy.workflows.placement_contracts import (
        POST_COLLECTION_WORKFLOW,
        PUBLIC_WELFARE_POST_WORKFLOW,
        Collected,
        CollectionEntry,
        CollectionState,
        DeclarationOutcome,
        DeclarationRecord,
        JoinCollection,
        PostCollectionInput,
        PostDeclarationInput,
        ReportCollection,
        SettlePosts,
        TaskSummary,
    )

HR_STEP = "hr_approval"
COLLECTION_STEP = "dpf_collection"
TERMINAL = {"approved", "rejected", "withdrawn"}


def parse_post_numbers(text: str, count: int) -> list[int]:
    """ "2, 3" → [2, 3]; every number must name a declared post."""
    numbers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= count:
            raise ValueError(f"values.rejected_posts: {part!r} is not a post number from 1 to {count}")
        if int(part) not in numbers:
            numbers.append(int(part))
    return sorted(numbers)


@workflow.defn(name=PUBLIC_WELFARE_POST_WORKFLOW)
class PublicWelfarePostWorkflow:
    @workflow.init
    def __init__(self, input: PostDeclarationInput) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(POST_DECLARATION_DB_STEPS)
        self._input: PostDeclarationInput | None = None
        self._version: PolicyVersion | None = None
        self._status = "submitted"
        self._open_tasks: dict[str, OpenTaskInput] = {}
        self._decisions: list[DecisionRecord] = []
        # One step at a time, as in the rent subsidy: a withdrawal cannot slip between a record and its task.
        self._lock = asyncio.Lock()
        self._collected: Collected | None = None
        self._decided = False
        self._stopped: str | None = None
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._input = input
        self._version = version_from_json(input.policy) if input.policy is not None else None

    @workflow.run
    async def run(self, input: PostDeclarationInput) -> str:
        async with self._lock:
            eligible = await self._check()
        if not eligible:
            return await self._finish()
        async with self._lock:
            if self._stopped is None:
                await db_step(
                    JOIN_POST_COLLECTION,
                    JoinCollection(
                        county=input.county,
                        year=input.year,
                        policy_version=self._version.code if self._version else None,
                        entry=CollectionEntry(
                            application_id=input.application_id,
                            workflow_id=workflow.info().workflow_id,
                            posts=len(input.posts),
                            places=sum(post.places for post in input.posts),
                        ),
                    ),
                    result_type=str,
                    patch=POST_DECLARATION_DB_STEPS,
                )
        await workflow.wait_condition(lambda: self._collected is not None or self._stopped is not None)
        collected = self._collected
        async with self._lock:
            if self._stopped is not None or collected is None:
                return await self._finish()
            if not collected.reported:
                await self._settle([], [post.number for post in input.posts])
                await self._change_status(
                    StatusChange(
                        input.application_id,
                        "rejected",
                        collected.by,
                        "collection_refused",
                        detail={"reason": collected.reason},
                    )
                )
                return await self._finish()
            task = OpenTaskInput(
                application_id=input.application_id,
                workflow_id=workflow.info().workflow_id,
                program=input.program,
                step=HR_STEP,
                round=1,
                role="county_hr",
                county=input.county,
                due_at=None,
                summary=f"{input.year}: {len(input.posts)} posts, "
                f"{sum(post.places for post in input.posts)} places, reported by the County DPF",
            )
            task_id: str = await db_step(OPEN_TASK, task, result_type=str, patch=POST_DECLARATION_DB_STEPS)
            self._open_tasks[task_id] = task
        await workflow.wait_condition(lambda: self._decided or self._stopped is not None)
        return await self._finish()

    async def _finish(self) -> str:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    async def _check(self) -> bool:
        assert self._input is not None
        reasons = declaration_reasons(self._version, self._input.applied_on, self._input.county, self._input.year)
        outcome: DeclarationOutcome = await db_step(
            RECORD_POST_DECLARATION,
            DeclarationRecord(
                application_id=self._input.application_id,
                county=self._input.county,
                year=self._input.year,
                employer_credit_code=self._input.employer_credit_code,
                posts=self._input.posts,
                reasons=reasons,
                policy_version=self._version.code if self._version else None,
                clause=self._version.placement.clause if self._version else None,
            ),
            result_type=DeclarationOutcome,
            patch=POST_DECLARATION_DB_STEPS,
        )
        self._status = "under_review" if outcome.eligible else "rejected"
        return outcome.eligible

    async def _settle(self, approved: list[int], rejected: list[int], *, withdrawn: bool = False) -> None:
        assert self._input is not None
        await db_step(
            SETTLE_POSTS,
            SettlePosts(self._input.application_id, approved, rejected, workflow.now(), withdrawn),
            patch=POST_DECLARATION_DB_STEPS,
        )

    async def _change_status(self, change: StatusChange) -> None:
        await db_step(CHANGE_STATUS, change, patch=POST_DECLARATION_DB_STEPS)
        self._status = change.status

    @workflow.signal
    def collected(self, answer: Collected) -> None:
        # The collection's activity may deliver its answer twice; the first one counts.
        if self._collected is None:
            self._collected = answer

    # ---- decide -----------------------------------------------------------------------------------

    @workflow.update
    async def decide(self, request: DecideInput) -> DecideResult:
        assert self._input is not None
        async with self._lock:
            self._validate_decision(request)
            task = self._open_tasks[request.task_id]
            numbers = [post.number for post in self._input.posts]
            rejected = numbers
            if request.decision == "approve":
                rejected = parse_post_numbers(request.values.get("rejected_posts", ""), len(numbers))
            approved = [number for number in numbers if number not in rejected]
            new_status = "approved" if approved else "rejected"
            now = workflow.now()
            await self._settle(approved, rejected)
            await db_step(
                RECORD_DECISION,
                DecisionToRecord(
                    application_id=self._input.application_id,
                    task_id=request.task_id,
                    step=task.step,
                    decision=request.decision,
                    actor=request.actor,
                    at=now,
                    reason=request.reason,
                    values=request.values,
                    new_status=new_status,
                ),
                patch=POST_DECLARATION_DB_STEPS,
            )
            self._decisions.append(
                DecisionRecord(
                    request.task_id, task.step, request.decision, request.actor.username, now, request.reason
                )
            )
            self._open_tasks.clear()
            self._status = new_status
            self._decided = True
            return DecideResult(request.task_id, request.decision, new_status)

    @decide.validator
    def _validate_decision(self, request: DecideInput) -> None:
        assert self._input is not None
        task = self._open_tasks.get(request.task_id)
        if task is None or self._decided or self._stopped is not None:
            raise ApplicationError("the task is not open", type=CONFLICT)
        check_decision(
            request,
            role=task.role,
            county=task.county,
            submitted_by=self._input.submitted_by,
            decided_by=[d.by for d in self._decisions],
        )
        if request.decision == "return":
            raise ApplicationError("a declaration is approved or rejected: reject it with a reason", type=INVALID)
        if request.decision == "approve":
            try:
                rejected = parse_post_numbers(request.values.get("rejected_posts", ""), len(self._input.posts))
            except ValueError as error:
                raise ApplicationError(str(error), type=INVALID) from None
            if len(rejected) == len(self._input.posts):
                raise ApplicationError(
                    "values.rejected_posts: every post would be rejected: reject instead", type=INVALID
                )
            if rejected and not (request.reason or "").strip():
                raise ApplicationError("a reason is required to reject posts", type=INVALID)

    # ---- events -----------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        assert self._input is not None
        async with self._lock:
            self._validate_event(request)
            await self._settle([], [], withdrawn=True)
            await self._change_status(
                StatusChange(
                    self._input.application_id,
                    "withdrawn",
                    request.actor.username,
                    "withdrawn",
                    detail={"note": request.note},
                    cancel_open_tasks=True,
                )
            )
            self._stopped = "withdrawn"
            self._open_tasks.clear()
            return EventResult(request.type, self._status)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        assert self._input is not None
        if request.type != "withdrawn":
            raise ApplicationError(f"type: {request.type} is not an event of a post declaration", type=INVALID)
        if request.actor.username != self._input.submitted_by:
            raise ApplicationError("only the employer who declared may withdraw", type=FORBIDDEN)
        if self._status in TERMINAL or self._decided or self._stopped is not None:
            raise ApplicationError(f"a declaration that is {self._status} cannot be withdrawn", type=CONFLICT)

    @workflow.query
    def view(self) -> WorkflowView:
        return WorkflowView(
            status=self._status,
            open_task_id=next(iter(self._open_tasks), None),
            policy_version=self._version.code if self._version else None,
            schedule=[],
        )


@workflow.defn(name=POST_COLLECTION_WORKFLOW)
class PostCollectionWorkflow:
    def __init__(self) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(POST_COLLECTION_DB_STEPS)
        self._input: PostCollectionInput | None = None
        self._state = CollectionState()
        self._open_tasks: dict[str, OpenTaskInput] = {}
        self._lock = asyncio.Lock()
        self._decided: DecideInput | None = None
        # How many pending declarations the open task's summary shows: a decision covers those, no more, so the
        # County DPF never reports a declaration it could not have seen.
        self._shown = 0

    @workflow.signal
    def join(self, entry: CollectionEntry) -> None:
        known = {e.application_id for e in (*self._state.pending, *self._state.reported)}
        if entry.application_id not in known:
            self._state.pending.append(entry)

    @workflow.run
    async def run(self, input: PostCollectionInput) -> str:
        self._input = input
        if input.state is not None:
            self._state = input.state
        else:
            self._state.round = input.first_round
        closes_at = end_of_day(input.closes_on)
        while True:
            try:
                await workflow.wait_condition(
                    lambda: bool(self._state.pending), timeout=max(closes_at - workflow.now(), timedelta(0))
                )
            except TimeoutError:
                break
            async with self._lock:
                await self._open_round()
            while True:
                await workflow.wait_condition(
                    lambda: self._decided is not None or len(self._state.pending) != self._shown
                )
                if self._decided is not None:
                    break
                async with self._lock:
                    if self._decided is None:
                        await self._refresh_summary()
            self._decided = None
        async with self._lock:
            await db_step(
                CHANGE_STATUS,
                StatusChange(input.collection_id, "completed", "system", "collection_closed"),
                patch=POST_COLLECTION_DB_STEPS,
            )
            self._state.status = "completed"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state.status

    def _summary(self, entries: list[CollectionEntry]) -> str:
        assert self._input is not None
        return (
            f"{self._input.year} public-welfare post declarations of {self._input.county}: "
            f"{len(entries)} declarations, {sum(e.posts for e in entries)} posts, "
            f"{sum(e.places for e in entries)} places"
        )

    async def _open_round(self) -> None:
        assert self._input is not None
        shown = list(self._state.pending)
        task = OpenTaskInput(
            application_id=self._input.collection_id,
            workflow_id=workflow.info().workflow_id,
            program="public_welfare_post_collection",
            step=COLLECTION_STEP,
            round=self._state.round,
            role="county_dpf",
            county=self._input.county,
            due_at=None,
            summary=self._summary(shown),
        )
        if self._state.status != "under_review":
            await db_step(
                CHANGE_STATUS,
                StatusChange(self._input.collection_id, "under_review", "system", "collection_reopened"),
                patch=POST_COLLECTION_DB_STEPS,
            )
            self._state.status = "under_review"
        task_id: str = await db_step(OPEN_TASK, task, result_type=str, patch=POST_COLLECTION_DB_STEPS)
        self._open_tasks[task_id] = task
        self._shown = len(shown)

    async def _refresh_summary(self) -> None:
        shown = list(self._state.pending)
        for task_id in self._open_tasks:
            await db_step(
                REFRESH_TASK_SUMMARY, TaskSummary(task_id, self._summary(shown)), patch=POST_COLLECTION_DB_STEPS
            )
        self._shown = len(shown)

    @workflow.update
    async def decide(self, request: DecideInput) -> DecideResult:
        assert self._input is not None
        async with self._lock:
            self._validate_decision(request)
            task = self._open_tasks[request.task_id]
            entries = self._state.pending[: self._shown]
            now: datetime = workflow.now()
            new_status = "approved" if request.decision == "approve" else "rejected"
            await db_step(
                RECORD_DECISION,
                DecisionToRecord(
                    application_id=self._input.collection_id,
                    task_id=request.task_id,
                    step=task.step,
                    decision=request.decision,
                    actor=request.actor,
                    at=now,
                    reason=request.reason,
                    values={**request.values, "declarations": ",".join(e.application_id for e in entries)},
                    new_status=new_status,
                ),
                patch=POST_COLLECTION_DB_STEPS,
            )
            await db_step(
                REPORT_COLLECTION,
                ReportCollection(
                    entries, Collected(request.decision == "approve", request.actor.username, request.reason)
                ),
                result_type=int,
                patch=POST_COLLECTION_DB_STEPS,
            )
            self._state.decisions.append(
                DecisionRecord(
                    request.task_id, task.step, request.decision, request.actor.username, now, request.reason
                )
            )
            self._state.reported.extend(entries)
            del self._state.pending[: len(entries)]
            self._state.round += 1
            self._state.status = new_status
            self._open_tasks.clear()
            self._shown = 0
            self._decided = request
            return DecideResult(request.task_id, request.decision, new_status)

    @decide.validator
    def _validate_decision(self, request: DecideInput) -> None:
        task = self._open_tasks.get(request.task_id)
        if task is None or self._decided is not None:
            raise ApplicationError("the task is not open", type=CONFLICT)
        # Every year's rounds are different declarations: the same official reports each of them.
        check_decision(request, role=task.role, county=task.county, submitted_by="system", decided_by=())
        if request.decision == "return":
            raise ApplicationError("the collection is reported (approve) or refused (reject)", type=INVALID)

    @workflow.query
    def view(self) -> WorkflowView:
        return WorkflowView(
            status=self._state.status,
            open_task_id=next(iter(self._open_tasks), None),
            policy_version=None,
            schedule=[],
        )
