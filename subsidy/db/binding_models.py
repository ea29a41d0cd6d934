"""Whom an account acts for: a person (resident ID) or an organisation (unified social credit code).

An account made by registration is bound only once the County DPF has verified it (program
`account_registration`); until then it has no role and can do nothing but read `/me` and its registration.
Officials' accounts have no binding: they act for their office. One person or organisation has at most one
verified account of each kind (a partial unique index), so nobody can open a second account for someone else.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base, _in

BINDING_KINDS = ("person", "employer", "provider", "agency")
BINDING_STATUSES = ("pending", "verified", "rejected")
# The role a verified binding gives its account.
ROLE_OF_KIND = {"person": "applicant", "employer": "employer", "provider": "provider", "agency": "agency"}


class AccountBinding(Base):
    __tablename__ = "account_bindings"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    # The normalised resident ID (kind person) or unified social credit code (the others).
    identifier: Mapped[str] = mapped_column(String(18))
    disability_cert_number: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(40))
    county: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The registration (an application row of program account_registration); None for seeded demo accounts.
    registration_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("kind", BINDING_KINDS), name="known_kind"),
        CheckConstraint(_in("status", BINDING_STATUSES), name="known_status"),
        CheckConstraint("kind <> 'person' OR disability_cert_number IS NOT NULL", name="person_has_certificate"),
        Index(
            "ux_account_bindings_verified",
            "kind",
            "identifier",
            unique=True,
            postgresql_where=text("status = 'verified'"),
        ),
        Index("ix_account_bindings_identifier", "identifier"),
    )
