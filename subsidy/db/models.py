"""The read model, the ledger and the audit log (PostgreSQL).

Temporal is the authority on where a procedure stands; these tables are what the API reads and what
auditors keep. Every rule the database can hold is a constraint here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Money = Numeric(12, 2)

APPLICATION_STATUSES = (
    "submitted",
    "rejected",
    "under_review",
    "returned",
    "publicity",
    "approved",
    "active",
    "completed",
    "terminated",
    "withdrawn",
)
TASK_STATUSES = ("open", "claimed", "done", "cancelled")
# `due` once the month has ended and its ledger rows are written; `paid` only once the bank confirmed every share.
SCHEDULE_STATUSES = ("planned", "due", "batched", "sent", "paid", "failed", "corrected", "cancelled")
FUNDERS = ("city", "county")
POLICY_STATUSES = ("pending", "approved", "rejected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB, Decimal: Money}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    county: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A disabled account signs in no more; its sessions and tokens are refused at once (subsidy/api/auth_sessions.py).
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by an administrator's password reset: the one-time password allows nothing but choosing a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(6))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Loaded by an administrator, in force only once a second official approves it (migration 0011).
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    source: Mapped[str | None] = mapped_column(Text)
    difference: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by: Mapped[str | None] = mapped_column(String(64))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="window_order"),
        CheckConstraint(_in("status", POLICY_STATUSES), name="known_policy_status"),
        CheckConstraint(
            "(status = 'approved') = (approved_by IS NOT NULL AND approved_at IS NOT NULL)", name="approval_recorded"
        ),
        CheckConstraint(
            "(status = 'rejected') = (rejected_by IS NOT NULL AND rejected_at IS NOT NULL)", name="rejection_recorded"
        ),
        Index("ix_policy_versions_in_force", "jurisdiction", "status", "valid_from"),
    )


class Person(Base):
    """One row per resident ID: the row cross-application rules lock (`SELECT ... FOR UPDATE`)."""

    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    program: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    county: Mapped[str] = mapped_column(String(6))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    submitted_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    workflow_id: Mapped[str] = mapped_column(String(128), unique=True)
    form: Mapped[dict[str, Any]] = mapped_column(JSONB)
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Filed by a County DPF official at the service window on the person's behalf (migration 0009); the official
    # is also `submitted_by`, so the workflows' separation of duties keeps them from deciding it.
    filed_by: Mapped[str | None] = mapped_column(String(64))
    filed_at_window: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        UniqueConstraint("submitted_by", "idempotency_key", name="one_application_per_key"),
        CheckConstraint(_in("status", APPLICATION_STATUSES), name="known_status"),
        Index("ix_applications_person_program", "person_id", "program"),
        Index("ix_applications_county_status", "county", "status"),
        Index("ix_applications_submitted_by", "submitted_by"),
        # The starter's look for applications whose workflow has not started (migration 0007).
        Index("ix_applications_waiting_to_start", "submitted_at", postgresql_where=text("status = 'submitted'")),
    )


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    workflow_id: Mapped[str] = mapped_column(String(128))
    program: Mapped[str] = mapped_column(String(48))
    step: Mapped[str] = mapped_column(String(48))
    round: Mapped[int] = mapped_column(Integer, default=1)
    role: Mapped[str] = mapped_column(String(32))
    county: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default="open")
    overdue: Mapped[bool] = mapped_column(default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Counted Monday to Friday: the days ran past the years the official calendar knew (migration 0010).
    due_is_estimate: Mapped[bool] = mapped_column(default=False, server_default="false")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("application_id", "step", "round", name="one_task_per_step_round"),
        CheckConstraint(_in("status", TASK_STATUSES), name="known_status"),
        CheckConstraint("status <> 'claimed' OR claimed_by IS NOT NULL", name="claimed_has_claimer"),
        # The inbox reads each range (role, county or none, status) in page order from these (migration 0005).
        Index("ix_tasks_inbox_order", "role", "county", "status", "due_at", "created_at", "id"),
        Index(
            "ix_tasks_inbox_citywide",
            "role",
            "status",
            "due_at",
            "created_at",
            "id",
            postgresql_where=text("county IS NULL"),
        ),
        Index("ix_tasks_application", "application_id"),
    )


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id"), unique=True)
    step: Mapped[str] = mapped_column(String(48))
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    values: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (
        CheckConstraint(_in("decision", ("approve", "reject", "return")), name="known_decision"),
        CheckConstraint("decision = 'approve' OR coalesce(length(trim(reason)), 0) > 0", name="refusal_has_reason"),
        Index("ix_decisions_application", "application_id"),
    )


class ScheduledPayment(Base):
    """One subsidy month of an application: planned, then as its payments go (subsidy/payments/), or cancelled."""

    __tablename__ = "schedule"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    city_share: Mapped[Decimal] = mapped_column(Money)
    county_share: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="planned")

    __table_args__ = (
        CheckConstraint("city_share + county_share = amount", name="shares_add_up"),
        CheckConstraint("amount >= 0 AND city_share >= 0 AND county_share >= 0", name="not_negative"),
        CheckConstraint(_in("status", SCHEDULE_STATUSES), name="known_status"),
    )


class LedgerEntry(Base):
    """Money posted: one row per funder, period and item. The unique key makes a retried posting a no-op.

    `item` tells apart the kinds of money one month pays (a placement: post subsidy and social insurance); a
    program with one kind posts `subsidy`, under the key `application:period:funder` it always had.
    """

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    period: Mapped[str] = mapped_column(String(7))
    funder: Mapped[str] = mapped_column(String(8))
    item: Mapped[str] = mapped_column(String(24), default="subsidy", server_default="subsidy")
    county: Mapped[str] = mapped_column(String(6))
    program: Mapped[str] = mapped_column(String(48))
    amount: Mapped[Decimal] = mapped_column(Money)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("funder", FUNDERS), name="known_funder"),
        CheckConstraint("amount >= 0 OR item IN ('recovery', 'reversal')", name="not_negative_but_recovery"),
        UniqueConstraint("application_id", "period", "funder", "item", name="one_posting_per_funder_period_item"),
        Index("ix_ledger_application", "application_id"),
        Index("ix_ledger_county_program", "county", "program"),
    )


class AuditRecord(Base):
    """Append-only, hash-chained: each row carries the hash of the previous one."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_application", "application_id", "id"),)


class ArchivedHistory(Base):
    """The full Temporal history of one closed run, kept for as long as records must be kept."""

    __tablename__ = "workflow_histories"

    workflow_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    run_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    workflow_type: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)
    # Text, not JSONB: the JSON exactly as Temporal wrote it, so the export replays byte for byte.
    history: Mapped[str] = mapped_column(Text)
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_workflow_histories_application", "application_id"),)
