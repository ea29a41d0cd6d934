"""The side effects that are new in program P and the flexible-employment insurance subsidy.

Tasks, decisions and status changes go through the generic `ProcedureActivities`; these add the posts and their
places, the County DPF's yearly collection, the placement checks and claims under the person's row lock, and
the two-item monthly postings. Each activity is idempotent and runs in one transaction with its audit record.

Lock order, everywhere: the person's row, then the application's, then the post's. Two requests for the same
person therefore queue on the first lock, and the second sees what the first committed (DESIGN.md §8).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from subsidy.activities.postings import plan_schedule, post_month
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, Task
from subsidy.db.person_holds import (
    FLEXIBLE_PENDING_OR_RUNNING,
    HOLDS_PLACE,
    TOOK_UP_A_POST,
    flexible_insurance_held,
    graduate_hiring_held,
    holds,
    lock_person,
    placement_held,
)
from subsidy.programs.graduate_hiring_subsidy.rules import EXCLUSIVE_WITH_GRADUATE_HIRING_SUBSIDY
from subsidy.programs.public_welfare import activity_names as names
from subsidy.programs.public_welfare.contracts import (
    COLLECTION_PROGRAM,
    FLEXIBLE_PROGRAM,
    PLACEMENT_PROGRAM,
    POST_COLLECTION_WORKFLOW,
    POST_PROGRAM,
    POST_SUBSIDY_ITEM,
    SOCIAL_INSURANCE_ITEM,
    ClaimResult,
    DeclarationOutcome,
    DeclarationRecord,
    EntitlementCheck,
    EntitlementClaim,
    EntitlementOutcome,
    JoinCollection,
    PlacementActivation,
    PlacementCheck,
    PlacementCheckOutcome,
    PlacementClaim,
    PlacementPayment,
    PostCollectionInput,
    ReportCollection,
    SettlePosts,
    TaskSummary,
    collection_workflow_id,
)
from subsidy.programs.public_welfare.models import PublicWelfarePlacement, PublicWelfarePost
from subsidy.programs.public_welfare.rules import (
    ALREADY_HAS_FLEXIBLE_INSURANCE,
    DUPLICATE_DECLARATION,
    EXCLUSIVE_WITH_PUBLIC_WELFARE_POST,
    PlacementHistory,
    history_reasons,
    only_the_cap,
)
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW

COLLECTION_STEP = "dpf_collection"
COLLECTION_NAMESPACE = uuid.UUID("3f1c1f0e-5a55-4c1e-9a41-7d0c2b8e6a21")


def collection_application_id(county: str, year: int) -> uuid.UUID:
    """The collection's application row, the same from every declaration and every retry."""
    return uuid.uuid5(COLLECTION_NAMESPACE, f"{county}:{year}")


def _activity_key(label: str) -> str:
    info = activity.info()
    return f"{info.workflow_run_id}:{info.activity_id}:{label}"


def _now() -> datetime:
    return datetime.now(UTC)


async def placement_history(
    session: AsyncSession, person_id: uuid.UUID, post: PublicWelfarePost | None, application_id: uuid.UUID
) -> PlacementHistory:
    """The post's free places and the person's other placements, as the pure rules take them."""
    post_approved = False
    free_places = 0
    if post is not None:
        declaration_status = await session.scalar(
            select(Application.status).where(Application.id == post.application_id)
        )
        post_approved = post.status == "approved" and declaration_status == "approved"
        taken = await session.scalar(
            select(func.count())
            .select_from(PublicWelfarePlacement)
            .join(Application, Application.id == PublicWelfarePlacement.application_id)
            .where(
                PublicWelfarePlacement.post_id == post.id,
                Application.id != application_id,
                Application.status.in_(HOLDS_PLACE),
            )
        )
        free_places = post.places - int(taken or 0)
    earlier = (
        await session.execute(
            select(Application.status)
            .join(PublicWelfarePlacement, PublicWelfarePlacement.application_id == Application.id)
            .where(
                Application.person_id == person_id,
                Application.program == PLACEMENT_PROGRAM,
                Application.id != application_id,
                Application.status.in_(TOOK_UP_A_POST),
            )
        )
    ).scalars()
    statuses = list(earlier)
    return PlacementHistory(
        post_approved=post_approved,
        free_places=free_places,
        earlier_placements=len(statuses),
        earlier_running=any(status in HOLDS_PLACE for status in statuses),
        flexible_insurance_held=await flexible_insurance_held(session, person_id, exclude=application_id),
    )


class PlacementActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [
            self.record_post_declaration,
            self.join_post_collection,
            self.report_collection,
            self.refresh_task_summary,
            self.settle_posts,
            self.check_placement,
            self.claim_placement,
            self.activate_placement,
            self.post_placement_month,
            self.check_flexible_insurance,
            self.claim_flexible_insurance,
        ]

    # ---- post declarations and the yearly collection ------------------------------------------------

    @activity.defn(name=names.RECORD_POST_DECLARATION)
    async def record_post_declaration(self, record: DeclarationRecord) -> DeclarationOutcome:
        """The declaration's posts, unless the employer already declared for this county and year."""
        application_id = uuid.UUID(record.application_id)
        async with self._sessions.begin() as session:
            # Two declarations of one employer at once must not both pass the once-a-year rule.
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"post-declaration:{record.employer_credit_code}:{record.county}:{record.year}"},
            )
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            if application.eligibility is not None and application.eligibility.get("round_key") == _activity_key(""):
                return DeclarationOutcome(application.eligibility["eligible"], application.eligibility["reasons"])
            reasons = list(record.reasons)
            declared = await session.scalar(
                select(
                    exists().where(
                        PublicWelfarePost.employer_credit_code == record.employer_credit_code,
                        PublicWelfarePost.county == record.county,
                        PublicWelfarePost.year == record.year,
                        PublicWelfarePost.application_id != application_id,
                        PublicWelfarePost.status.in_(("declared", "approved")),
                    )
                )
            )
            if declared:
                reasons.append(DUPLICATE_DECLARATION)
            eligible = not reasons
            if eligible:
                await session.execute(
                    insert(PublicWelfarePost)
                    .values(
                        [
                            {
                                "id": uuid.uuid4(),
                                "application_id": application_id,
                                "number": post.number,
                                "county": record.county,
                                "year": record.year,
                                "employer_credit_code": record.employer_credit_code,
                                "title": post.title,
                                "category": post.category,
                                "places": post.places,
                                "monthly_wage": post.monthly_wage,
                                "status": "declared",
                            }
                            for post in record.posts
                        ]
                    )
                    .on_conflict_do_nothing(constraint="one_post_per_number")
                )
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
                "policy_version": record.policy_version,
                "clause": record.clause,
                "round_key": _activity_key(""),
            }
            application.policy_version = record.policy_version
            application.status = "under_review" if eligible else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={"eligible": eligible, "reasons": reasons, "policy_version": record.policy_version},
                dedup_key=_activity_key("eligibility"),
            )
            return DeclarationOutcome(eligible, reasons)

    @activity.defn(name=names.JOIN_POST_COLLECTION)
    async def join_post_collection(self, join: JoinCollection) -> str:
        """Put the declaration into its county's collection for the year, starting the collection if need be."""
        collection_id = collection_application_id(join.county, join.year)
        workflow_id = collection_workflow_id(join.county, join.year)
        async with self._sessions.begin() as session:
            created = await session.scalar(
                insert(Application)
                .values(
                    id=collection_id,
                    program=COLLECTION_PROGRAM,
                    status="under_review",
                    county=join.county,
                    policy_version=join.policy_version,
                    submitted_by="system",
                    workflow_id=workflow_id,
                    form={"program": COLLECTION_PROGRAM, "county": join.county, "year": join.year},
                )
                .on_conflict_do_nothing()
                .returning(Application.id)
            )
            if created is not None:
                await append_audit(
                    session,
                    kind="submitted",
                    actor="system",
                    at=_now(),
                    application_id=collection_id,
                    detail={"program": COLLECTION_PROGRAM, "county": join.county, "year": join.year},
                )
            last_round = await session.scalar(
                select(func.max(Task.round)).where(Task.application_id == collection_id, Task.step == COLLECTION_STEP)
            )
        # Signal-with-start: a running collection takes the declaration; a finished one (its year closed while this
        # declaration waited) starts again with the next task round, so no round number is ever reused.
        await activity.client().start_workflow(
            POST_COLLECTION_WORKFLOW,
            PostCollectionInput(
                collection_id=str(collection_id),
                county=join.county,
                year=join.year,
                first_round=int(last_round or 0) + 1,
                closes_on=date(join.year, 12, 31),
            ),
            id=workflow_id,
            task_queue=activity.info().task_queue,
            start_signal="join",
            start_signal_args=[join.entry],
        )
        return str(collection_id)

    @activity.defn(name=names.REPORT_COLLECTION)
    async def report_collection(self, report: ReportCollection) -> int:
        """Tell each collected declaration that it went to County HR (or was refused)."""
        delivered = 0
        for entry in report.entries:
            try:
                await activity.client().get_workflow_handle(entry.workflow_id).signal("collected", report.collected)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue  # withdrawn meanwhile: nothing waits for the answer
            delivered += 1
        return delivered

    @activity.defn(name=names.REFRESH_TASK_SUMMARY)
    async def refresh_task_summary(self, summary: TaskSummary) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Task).where(Task.id == uuid.UUID(summary.task_id)).values(summary=summary.summary)
            )

    @activity.defn(name=names.SETTLE_POSTS)
    async def settle_posts(self, settle: SettlePosts) -> None:
        application_id = uuid.UUID(settle.application_id)
        async with self._sessions.begin() as session:
            if settle.withdrawn:
                await session.execute(
                    update(PublicWelfarePost)
                    .where(PublicWelfarePost.application_id == application_id, PublicWelfarePost.status == "declared")
                    .values(status="withdrawn", decided_at=settle.at)
                )
            for numbers, status in ((settle.approved, "approved"), (settle.rejected, "rejected")):
                if numbers:
                    await session.execute(
                        update(PublicWelfarePost)
                        .where(
                            PublicWelfarePost.application_id == application_id,
                            PublicWelfarePost.number.in_(numbers),
                            PublicWelfarePost.status == "declared",
                        )
                        .values(status=status, decided_at=settle.at)
                    )

    # ---- placements ---------------------------------------------------------------------------------------

    @activity.defn(name=names.CHECK_PLACEMENT)
    async def check_placement(self, check: PlacementCheck) -> PlacementCheckOutcome:
        """The pure reasons plus the post's and the person's records, under the person's row lock."""
        application_id = uuid.UUID(check.application_id)
        person_id = uuid.UUID(check.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            stored = application.eligibility
            if stored is not None and stored.get("round_key") == _activity_key(""):
                return PlacementCheckOutcome(
                    stored["eligible"],
                    stored["reasons"],
                    stored["post_id"],
                    stored["sequence"],
                    stored["needs_override"],
                )
            post = await session.scalar(
                select(PublicWelfarePost)
                .join(Application, Application.id == PublicWelfarePost.application_id)
                .where(
                    PublicWelfarePost.application_id == uuid.UUID(check.post_application_id),
                    PublicWelfarePost.number == check.post_number,
                    Application.program == POST_PROGRAM,
                )
                .with_for_update(of=PublicWelfarePost)
            )
            history = await placement_history(session, person_id, post, application_id)
            reasons = list(check.reasons)
            # Without a policy version in force there are no rules to apply: that reason stands alone.
            if OUTSIDE_POLICY_WINDOW not in reasons:
                reasons += history_reasons(
                    history,
                    severe_disability=check.severe_disability,
                    special_hardship=check.special_hardship,
                    max_placements=check.max_placements,
                )
            sequence = history.earlier_placements + 1
            needs_override = check.override_requested and only_the_cap(reasons)
            eligible = not reasons
            if post is not None:
                await session.execute(
                    insert(PublicWelfarePlacement)
                    .values(
                        application_id=application_id,
                        person_id=person_id,
                        post_id=post.id,
                        sequence=sequence,
                        start_date=check.start_date,
                        extended_to_retirement=False,
                        overridden=False,
                    )
                    .on_conflict_do_update(
                        index_elements=[PublicWelfarePlacement.application_id], set_={"sequence": sequence}
                    )
                )
            post_id = str(post.id) if post is not None else None
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
                "post_id": post_id,
                "sequence": sequence,
                "needs_override": needs_override,
                "policy_version": check.policy_version,
                "clause": check.clause,
                "round_key": _activity_key(""),
            }
            application.policy_version = check.policy_version
            application.status = "under_review" if eligible or needs_override else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={
                    "eligible": eligible,
                    "reasons": reasons,
                    "sequence": sequence,
                    "override_requested": check.override_requested,
                    "policy_version": check.policy_version,
                    "clause": check.clause,
                },
                dedup_key=_activity_key("eligibility"),
            )
            return PlacementCheckOutcome(eligible, reasons, post_id, sequence, needs_override)

    @activity.defn(name=names.CLAIM_PLACEMENT)
    async def claim_placement(self, claim: PlacementClaim) -> ClaimResult:
        """Take the place and start publicity, or name the rules that now stand in the way (nothing is written)."""
        application_id = uuid.UUID(claim.application_id)
        person_id = uuid.UUID(claim.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            placement = await session.get(PublicWelfarePlacement, application_id, with_for_update=True)
            assert placement is not None
            if application.status == "publicity" and placement.publicity_from == claim.publicity_from:
                return ClaimResult([])  # a retry after the commit
            post = await session.get(PublicWelfarePost, uuid.UUID(claim.post_id), with_for_update=True)
            history = await placement_history(session, person_id, post, application_id)
            reasons = history_reasons(
                history,
                severe_disability=claim.severe_disability,
                special_hardship=claim.special_hardship,
                max_placements=claim.max_placements,
                override_granted=claim.override_granted,
            )
            if await graduate_hiring_held(session, person_id):
                reasons.append(EXCLUSIVE_WITH_GRADUATE_HIRING_SUBSIDY)
            if reasons:
                return ClaimResult(reasons)
            application.status = "publicity"
            placement.publicity_from = claim.publicity_from
            placement.publicity_until = claim.publicity_until
            placement.overridden = claim.override_granted
            placement.sequence = history.earlier_placements + 1
            await append_audit(
                session,
                kind="place_taken",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={
                    "post_id": claim.post_id,
                    "free_places_before": history.free_places,
                    "sequence": placement.sequence,
                    "override": claim.override_granted,
                    "publicity_from": claim.publicity_from.isoformat(),
                    "publicity_until": claim.publicity_until.isoformat(),
                },
                dedup_key=_activity_key("place_taken"),
            )
            return ClaimResult([])

    @activity.defn(name=names.ACTIVATE_PLACEMENT)
    async def activate_placement(self, activation: PlacementActivation) -> None:
        """Publicity passed: the person holds the post, and the months of the period are planned."""
        application_id = uuid.UUID(activation.application_id)
        async with self._sessions.begin() as session:
            await session.execute(update(Application).where(Application.id == application_id).values(status="active"))
            await session.execute(
                update(PublicWelfarePlacement)
                .where(PublicWelfarePlacement.application_id == application_id)
                .values(
                    period_end=activation.period_end,
                    retirement_on=activation.retirement_on,
                    extended_to_retirement=activation.extended_to_retirement,
                )
            )
            await plan_schedule(session, application_id, activation.schedule)
            await append_audit(
                session,
                kind="placed",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={
                    "status": "active",
                    "months": len(activation.schedule),
                    "period_end": activation.period_end.isoformat(),
                    "extended_to_retirement": activation.extended_to_retirement,
                },
                dedup_key=f"placed:{activation.application_id}",
            )

    @activity.defn(name=names.POST_PLACEMENT_MONTH)
    async def post_placement_month(self, payment: PlacementPayment) -> int:
        """Four ledger rows for one month (two items, two funders); the unique keys make a repeat a no-op."""
        application_id = uuid.UUID(payment.application_id)
        month = payment.month
        parts = (
            (POST_SUBSIDY_ITEM, "city", month.post_city),
            (POST_SUBSIDY_ITEM, "county", month.post_county),
            (SOCIAL_INSURANCE_ITEM, "city", month.insurance_city),
            (SOCIAL_INSURANCE_ITEM, "county", month.insurance_county),
        )
        async with self._sessions.begin() as session:
            rows = [
                {
                    "idempotency_key": f"{payment.application_id}:{month.period}:{funder}:{item}",
                    "application_id": application_id,
                    "period": month.period,
                    "funder": funder,
                    "item": item,
                    "county": payment.county,
                    "program": payment.program,
                    "amount": amount,
                }
                for item, funder, amount in parts
            ]
            posted = await post_month(session, application_id, month.period, rows)
            if posted:
                await append_audit(
                    session,
                    kind="payment",
                    actor="system",
                    at=_now(),
                    application_id=application_id,
                    detail={
                        "period": month.period,
                        "amount": str(month.amount),
                        "post_subsidy": str(month.post_subsidy),
                        "social_insurance": str(month.social_insurance),
                        "city": str(month.city_share),
                        "county": str(month.county_share),
                    },
                    dedup_key=f"payment:{payment.application_id}:{month.period}",
                )
            return posted

    # ---- flexible-employment insurance subsidy ---------------------------------------------------------------

    @activity.defn(name=names.CHECK_FLEXIBLE_INSURANCE)
    async def check_flexible_insurance(self, check: EntitlementCheck) -> EntitlementOutcome:
        application_id = uuid.UUID(check.application_id)
        person_id = uuid.UUID(check.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            stored = application.eligibility
            if stored is not None and stored.get("round_key") == _activity_key(""):
                return EntitlementOutcome(stored["eligible"], stored["reasons"])
            reasons = list(check.reasons)
            if await placement_held(session, person_id):
                reasons.append(EXCLUSIVE_WITH_PUBLIC_WELFARE_POST)
            if await holds(session, person_id, FLEXIBLE_PROGRAM, FLEXIBLE_PENDING_OR_RUNNING, application_id):
                reasons.append(ALREADY_HAS_FLEXIBLE_INSURANCE)
            eligible = not reasons
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
                "policy_version": check.policy_version,
                "clause": check.clause,
                "round_key": _activity_key(""),
            }
            application.policy_version = check.policy_version
            application.status = "under_review" if eligible else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={"eligible": eligible, "reasons": reasons, "policy_version": check.policy_version},
                dedup_key=_activity_key("eligibility"),
            )
            return EntitlementOutcome(eligible, reasons)

    @activity.defn(name=names.CLAIM_FLEXIBLE_INSURANCE)
    async def claim_flexible_insurance(self, claim: EntitlementClaim) -> ClaimResult:
        """Start the subsidy, unless a placement holds a post by now; decided under the person's row lock."""
        application_id = uuid.UUID(claim.application_id)
        person_id = uuid.UUID(claim.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            if application.status == "active":
                return ClaimResult([])  # a retry after the commit
            if await placement_held(session, person_id):
                return ClaimResult([EXCLUSIVE_WITH_PUBLIC_WELFARE_POST])
            application.status = "active"
            await append_audit(
                session,
                kind="entitlement_started",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={"program": FLEXIBLE_PROGRAM, "status": "active"},
                dedup_key=_activity_key("entitlement_started"),
            )
            return ClaimResult([])
