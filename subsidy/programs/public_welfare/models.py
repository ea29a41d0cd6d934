"""Program P's tables: the declared posts and their places, and each placement of a person on a post.

Applications, tasks, decisions, the schedule and the ledger are the shared tables of `models.py`; these hold
only what is new. The post row is what a placement locks to take a place, after the person's row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base, Money, _in

POST_CATEGORIES = ("public_service", "professional_technical")
POST_STATUSES = ("declared", "approved", "rejected", "withdrawn")


class PublicWelfarePost(Base):
    """One post of an employer's yearly declaration; `places` people can hold it at the same time once approved."""

    __tablename__ = "public_welfare_posts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1-based, in the order of the declaration
    county: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    employer_credit_code: Mapped[str] = mapped_column(String(18))
    title: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    places: Mapped[int] = mapped_column(Integer)
    monthly_wage: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="declared")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("application_id", "number", name="one_post_per_number"),
        CheckConstraint("number >= 1", name="number_from_one"),
        CheckConstraint("places >= 1", name="at_least_one_place"),
        CheckConstraint("monthly_wage > 0", name="wage_positive"),
        CheckConstraint(_in("category", POST_CATEGORIES), name="known_category"),
        CheckConstraint(_in("status", POST_STATUSES), name="known_status"),
        Index("ix_public_welfare_posts_county_year", "county", "year", "status"),
        Index("ix_public_welfare_posts_employer", "employer_credit_code", "county", "year"),
    )


class PublicWelfarePlacement(Base):
    """A person proposed for a post. Whether it holds the place is the application's status (publicity, active)."""

    __tablename__ = "public_welfare_placements"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("public_welfare_posts.id"))
    # The person's how-many-th placement this is: 2 needs a region filing, 3 or more a City override.
    sequence: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    retirement_on: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # exclusive; set when the person takes up the post
    extended_to_retirement: Mapped[bool] = mapped_column(default=False)
    overridden: Mapped[bool] = mapped_column(default=False)
    publicity_from: Mapped[date | None] = mapped_column(Date)
    publicity_until: Mapped[date | None] = mapped_column(Date)  # the last day of publicity, inclusive

    __table_args__ = (
        CheckConstraint("sequence >= 1", name="sequence_from_one"),
        CheckConstraint("period_end IS NULL OR period_end > start_date", name="period_after_start"),
        CheckConstraint(
            "publicity_until IS NULL OR publicity_until >= publicity_from", name="publicity_ends_after_it_starts"
        ),
        Index("ix_public_welfare_placements_person", "person_id"),
        Index("ix_public_welfare_placements_post", "post_id"),
    )
