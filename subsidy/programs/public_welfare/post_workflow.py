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

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.programs.public_welfare.activity_names import (
        JOIN_POST_COLLECTION,
        RECORD_POST_DECLARATION,
        REFRESH_TASK_SUMMARY,
        REPORT_COLLECTION,
        SETTLE_POSTS,
    )
    from subsidy.programs.public_welfare.contracts import (
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
    from subsidy.programs.public_welfare.rules import declaration_reasons
    from subsidy.workflows.common import (
        POST_COLLECTION_DB_STEPS,
        POST_DECLARATION_DB_STEPS,
        end_of_day,
        local_db_steps,
    )
    from subsidy.workflows.contracts import (
        INVALID,
        DecideInput,
        DecisionRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule

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
class PublicWelfarePostWorkflow(Procedure):
    DB_PATCH = POST_DECLARATION_DB_STEPS
    STEPS = {
        HR_STEP: StepRule(
            decisions=("approve", "reject"), refusal="a declaration is approved or rejected: reject it with a reason"
        )
    }
    EVENTS = {"withdrawn": EventRule("_check_withdrawal", "_withdraw")}
    EVENT_SUBJECT = "a post declaration"

    @workflow.init
    def __init__(self, input: PostDeclarationInput) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(POST_DECLARATION_DB_STEPS)
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._begin(input)
        self._input: PostDeclarationInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._status = "submitted"
        self._collected: Collected | None = None

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    @workflow.run
    async def run(self, input: PostDeclarationInput) -> str:
        async with self._lock:
            eligible = await self._check()
        if not eligible:
            return await self.finish()
        async with self._lock:
            if self._stopped is None:
                await self.step(
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
                )
        await workflow.wait_condition(lambda: self._collected is not None or self._stopped is not None)
        collected = self._collected
        async with self._lock:
            if self._stopped is not None or collected is None:
                return await self.finish()
            if not collected.reported:
                await self._settle([], [post.number for post in input.posts])
                await self.change_status(
                    StatusChange(
                        input.application_id,
                        "rejected",
                        collected.by,
                        "collection_refused",
                        detail={"reason": collected.reason},
                    )
                )
                return await self.finish()
            summary = (
                f"{input.year}: {len(input.posts)} posts, "
                f"{sum(post.places for post in input.posts)} places, reported by the County DPF"
            )
            # Opened in the same step as the answer is read: a withdrawal comes before both or after both.
            await self.open_task(self.task(HR_STEP, "county_hr", input.county, summary))
        await workflow.wait_condition(self.settled)
        return await self.finish()

    async def _check(self) -> bool:
        reasons = declaration_reasons(self._version, self._input.applied_on, self._input.county, self._input.year)
        outcome: DeclarationOutcome = await self.step(
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
        )
        self._status = "under_review" if outcome.eligible else "rejected"
        return outcome.eligible

    async def _settle(self, approved: list[int], rejected: list[int], *, withdrawn: bool = False) -> None:
        await self.step(
            SETTLE_POSTS, SettlePosts(self._input.application_id, approved, rejected, workflow.now(), withdrawn)
        )

    @workflow.signal
    def collected(self, answer: Collected) -> None:
        # The collection's activity may deliver its answer twice; the first one counts.
        if self._collected is None:
            self._collected = answer

    # ---- decide -----------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        numbers = [post.number for post in self._input.posts]
        rejected = numbers
        if request.decision == "approve":
            rejected = parse_post_numbers(request.values.get("rejected_posts", ""), len(numbers))
        approved = [number for number in numbers if number not in rejected]
        await self._settle(approved, rejected)
        return DecisionEffects("approved" if approved else "rejected")

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        self.open_tasks.clear()

    def check_values(self, task: OpenTaskInput, request: DecideInput) -> None:
        if request.decision != "approve":
            return
        try:
            rejected = parse_post_numbers(request.values.get("rejected_posts", ""), len(self._input.posts))
        except ValueError as error:
            raise ApplicationError(str(error), type=INVALID) from None
        if len(rejected) == len(self._input.posts):
            raise ApplicationError("values.rejected_posts: every post would be rejected: reject instead", type=INVALID)
        if rejected and not (request.reason or "").strip():
            raise ApplicationError("a reason is required to reject posts", type=INVALID)

    # ---- events -----------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        self.check_event(request)

    def _check_withdrawal(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the employer who declared may withdraw")
        self.require_open(
            self._status not in TERMINAL and self._decided is None,
            f"a declaration that is {self._status} cannot be withdrawn",
        )

    async def _withdraw(self, request: EventInput) -> EventResult:
        await self._settle([], [], withdrawn=True)
        return await self.stop(request, "withdrawn", detail={"note": request.note})


@workflow.defn(name=POST_COLLECTION_WORKFLOW)
class PostCollectionWorkflow(Procedure):
    DB_PATCH = POST_COLLECTION_DB_STEPS
    # Every year's rounds are different declarations: the same official reports each of them.
    STEPS = {
        COLLECTION_STEP: StepRule(
            decisions=("approve", "reject"),
            refusal="the collection is reported (approve) or refused (reject)",
            separation_of_duties=False,
        )
    }

    def __init__(self) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(POST_COLLECTION_DB_STEPS)
        self._begin(None)
        self._input: PostCollectionInput | None = None
        self._state = CollectionState()
        # How many pending declarations the open task's summary shows: a decision covers those, no more, so the
        # County DPF never reports a declaration it could not have seen.
        self._shown = 0

    @property
    def status(self) -> str:
        return self._state.status

    @status.setter
    def status(self, value: str) -> None:
        self._state.status = value

    @property
    def decisions(self) -> list[DecisionRecord]:
        return self._state.decisions

    @property
    def application_id(self) -> str:
        assert self._input is not None
        return self._input.collection_id

    @property
    def submitted_by(self) -> str:
        return "system"  # nobody submits a collection: declarations open it

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
            await self.change_status(StatusChange(input.collection_id, "completed", "system", "collection_closed"))
        return await self.finish()

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
        task = self.task(
            COLLECTION_STEP,
            "county_dpf",
            self._input.county,
            self._summary(shown),
            round=self._state.round,
            program="public_welfare_post_collection",
        )
        if self._state.status != "under_review":
            await self.change_status(
                StatusChange(self._input.collection_id, "under_review", "system", "collection_reopened")
            )
        await self.open_task(task)
        self._shown = len(shown)

    async def _refresh_summary(self) -> None:
        shown = list(self._state.pending)
        for task_id in self.open_tasks:
            await self.step(REFRESH_TASK_SUMMARY, TaskSummary(task_id, self._summary(shown)))
        self._shown = len(shown)

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        entries = self._state.pending[: self._shown]
        return DecisionEffects(
            "approved" if request.decision == "approve" else "rejected",
            values={**request.values, "declarations": ",".join(e.application_id for e in entries)},
        )

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        entries = self._state.pending[: self._shown]
        await self.step(
            REPORT_COLLECTION,
            ReportCollection(entries, Collected(request.decision == "approve", request.actor.username, request.reason)),
            result_type=int,
        )
        self._state.reported.extend(entries)
        del self._state.pending[: len(entries)]
        self._state.round += 1
        self.open_tasks.clear()
        self._shown = 0
