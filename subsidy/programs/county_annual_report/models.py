"""The counties' submitted annual reports, frozen: the figures and the narrative as of the moment of submission."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base


class CountyReport(Base):
    __tablename__ = "county_reports"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    county: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    # `CountyFigures.as_json()` at the moment of submission, and its SHA-256 (also in the audit log).
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB)
    figures_sha256: Mapped[str] = mapped_column(String(64))
    narrative: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("county", "year", name="one_report_per_county_and_year"),)
