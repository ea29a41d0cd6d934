"""Money that leaves: payments, the batches finance builds, the lines the bank was sent, accounts, recoveries.

A month that ends is an obligation (its ledger rows) and one *payment* per funder; the payment then moves
`due → batched → sent → paid | failed`, a failed one `→ corrected → batched` again or `→ cancelled` with a reason.
What the bank was sent is a *payment line*: its reference is unique across every batch ever sent, so a payment
sent again after a failure goes out under a new reference (the payment's `attempt`), never the same one twice.
A *recovery* is money paid for months a late-reported event says should not have been paid: negative ledger rows
(item `recovery`), shown to the person, ended repaid, offset against later months, or written off by two officials.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base, Money, _in

PAYMENT_STATUSES = ("due", "batched", "sent", "paid", "failed", "corrected", "cancelled")
BATCH_STATUSES = ("built", "approved", "sent", "settled")
LINE_RESULTS = ("paid", "failed")
RECOVERY_STATUSES = ("open", "repaid", "offset", "written_off")


class Payment(Base):
    """One funder's share of one period of one application, from the moment the period is due."""

    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # The reference of the current attempt (`<payment key>-<attempt>`); every reference sent is in payment_lines.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    program: Mapped[str] = mapped_column(String(48))
    county: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(7))
    funder: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="due")
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_batches.id"))
    # The bank's reason for the last failure, and the official's for a cancellation.
    failure_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("application_id", "period", "funder", name="one_payment_per_funder_period"),
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="known_payment_status"),
        CheckConstraint("amount > 0", name="payment_positive"),
        CheckConstraint("(status IN ('batched', 'sent', 'paid')) = (batch_id IS NOT NULL)", name="batched_has_batch"),
        CheckConstraint("status <> 'cancelled' OR coalesce(length(trim(cancel_reason)), 0) > 0", name="cancel_reason"),
        Index("ix_payments_scope", "funder", "county", "status", "period"),
        Index("ix_payments_application", "application_id"),
    )


class PaymentBatch(Base):
    """The month's payments of one funder and county, built by one finance official and approved by another."""

    __tablename__ = "payment_batches"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    funder: Mapped[str] = mapped_column(String(8))
    county: Mapped[str] = mapped_column(String(6))
    up_to_period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(16), default="built")
    lines: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    built_by: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # SHA-256 of the bank file as first downloaded; every later download is the same bytes.
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("status", BATCH_STATUSES), name="known_batch_status"),
        CheckConstraint("approved_by IS NULL OR approved_by <> built_by", name="four_eyes"),
        CheckConstraint("(status = 'built') = (approved_by IS NULL)", name="approval_recorded"),
        CheckConstraint("lines > 0 AND total > 0", name="batch_not_empty"),
        Index("ix_payment_batches_scope", "funder", "county", "built_at"),
    )


class PaymentLine(Base):
    """One line of a bank file as it was built: never changed but for the bank's result."""

    __tablename__ = "payment_lines"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_batches.id"))
    payee_name: Mapped[str] = mapped_column(String(128))
    account: Mapped[str] = mapped_column(String(34))
    amount: Mapped[Decimal] = mapped_column(Money)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    period: Mapped[str] = mapped_column(String(7))
    result: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    result_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"result IS NULL OR {_in('result', LINE_RESULTS)}", name="known_line_result"),
        Index("ix_payment_lines_batch", "batch_id"),
        Index("ix_payment_lines_payment", "payment_id"),
    )


class BankAccountChange(Base):
    """A payee's bank account as corrected after a failure (the form's account until the first correction)."""

    __tablename__ = "bank_account_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    account: Mapped[str] = mapped_column(String(34))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payment_reference: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (Index("ix_bank_account_changes_application", "application_id", "id"),)


class Recovery(Base):
    """Months paid that a late-dated event says should not have been: what the person owes back, and how it ended."""

    __tablename__ = "recoveries"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), unique=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    program: Mapped[str] = mapped_column(String(48))
    county: Mapped[str] = mapped_column(String(6))
    event: Mapped[str] = mapped_column(String(48))
    event_date: Mapped[date] = mapped_column(Date)
    # [{"period", "funder", "amount", "reference"}] — each payment recovered.
    months: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    amount: Mapped[Decimal] = mapped_column(Money)
    city_amount: Mapped[Decimal] = mapped_column(Money)
    county_amount: Mapped[Decimal] = mapped_column(Money)
    # Still owed: the amount less what was offset against later months.
    outstanding: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    write_off_proposed_by: Mapped[str | None] = mapped_column(String(64))
    write_off_reason: Mapped[str | None] = mapped_column(Text)
    settled_by: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settlement_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("status", RECOVERY_STATUSES), name="known_recovery_status"),
        CheckConstraint("city_amount + county_amount = amount", name="recovery_shares_add_up"),
        CheckConstraint("outstanding >= 0 AND outstanding <= amount", name="outstanding_within_amount"),
        CheckConstraint(
            "status <> 'written_off' OR (settled_by IS NOT NULL AND write_off_proposed_by IS NOT NULL "
            "AND settled_by <> write_off_proposed_by)",
            name="write_off_by_two",
        ),
        Index("ix_recoveries_person", "person_id"),
    )
