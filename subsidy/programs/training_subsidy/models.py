"""The tables of the training subsidy (program T): one row per class, one row per trainee of a class.

The per-person limits (3 trainings a year, the same course and level not twice within a year) need the
person's other trainings across every class and county: they are read from `training_enrolments` under the
`people` row lock. Which rows count is the enrolment's status, nothing else (see `COUNTING_STATUSES`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base, Money
from subsidy.programs.training_subsidy.rules import COURSE_KINDS

# enrolled: passed the limits and holds one of the person's places from that moment (the plan is under
#   review or approved, the class not yet reported); qualified: attended at least the minimum hours.
# excluded: refused at enrolment by a per-person limit; not_qualified: reported below the minimum hours;
# released: the class will not be paid (plan rejected, withdrawn, report never came, completion rejected).
ENROLMENT_STATUSES = ("enrolled", "qualified", "excluded", "not_qualified", "released")
# A place is held from enrolment, not from plan approval: two plans filed at the same moment must not both pass.
COUNTING_STATUSES = ("enrolled", "qualified")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TrainingClass(Base):
    """A class plan (培训计划) and, once reported, its completion: cost, qualified trainees, reimbursement."""

    __tablename__ = "training_classes"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    county: Mapped[str] = mapped_column(String(6))
    course_code: Mapped[str] = mapped_column(String(32))
    course_title: Mapped[str] = mapped_column(String(128))
    course_level: Mapped[str] = mapped_column(String(32))
    course_kind: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    class_days: Mapped[int] = mapped_column(Integer)
    class_hours: Mapped[int] = mapped_column(Integer)
    planned_cost: Mapped[Decimal] = mapped_column(Money)
    actual_cost: Mapped[Decimal | None] = mapped_column(Money)
    qualified_count: Mapped[int | None] = mapped_column(Integer)
    reimbursement: Mapped[Decimal | None] = mapped_column(Money)
    reported_by: Mapped[str | None] = mapped_column(String(64))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("course_kind", COURSE_KINDS), name="known_course_kind"),
        CheckConstraint("end_date >= start_date", name="course_dates_in_order"),
        CheckConstraint("class_days > 0 AND class_hours > 0", name="course_has_days_and_hours"),
        CheckConstraint("class_days <= end_date - start_date + 1", name="class_days_within_dates"),
        CheckConstraint("planned_cost >= 0", name="planned_cost_not_negative"),
        # A report sets all of its columns at once, and never pays more than the documented cost.
        CheckConstraint(
            "(reported_at IS NULL AND actual_cost IS NULL AND qualified_count IS NULL AND reimbursement IS NULL)"
            " OR (reported_at IS NOT NULL AND actual_cost >= 0 AND qualified_count >= 0"
            " AND reimbursement >= 0 AND reimbursement <= actual_cost)",
            name="report_complete_and_within_cost",
        ),
        Index("ix_training_classes_county", "county"),
    )


class TrainingEnrolment(Base):
    """One trainee of one class, by their line in the plan; the person is the `people` row, never a copied ID."""

    __tablename__ = "training_enrolments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.application_id"))
    line: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(16))
    # Reason codes (policy.training), never free text: an exclusion is shown in words, with its clause.
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(48)), default=list, server_default=text("'{}'"))
    hours: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        UniqueConstraint("application_id", "line", name="one_enrolment_per_line"),
        UniqueConstraint("application_id", "person_id", name="one_enrolment_per_person_and_class"),
        CheckConstraint(_in("status", ENROLMENT_STATUSES), name="known_status"),
        CheckConstraint("line >= 0", name="line_not_negative"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours_not_negative"),
        # Whoever reads the row later must be able to say why a trainee does not count.
        CheckConstraint(
            "status NOT IN ('excluded', 'released') OR cardinality(reasons) > 0", name="exclusion_has_reason"
        ),
        Index("ix_training_enrolments_person_status", "person_id", "status"),
    )
