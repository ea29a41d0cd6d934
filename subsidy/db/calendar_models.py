"""The official calendar's years (issue 12): one row per year the service knows, with where it came from.

Seeded from the `chinesecalendar` package for the years it knows (source `chinesecalendar`), loaded for a new year
from the State Council's notice by an administrator (`subsidy calendar load FILE`, `POST /api/v1/calendar/years`, the
page `/admin/calendar`). `days` is `policy.calendar_file.year_to_json`: the holidays as named ranges and the
weekends that are working days.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base, _in
from subsidy.policy.calendar_file import FILE_SOURCES, PACKAGED

CALENDAR_SOURCES = (*FILE_SOURCES, PACKAGED)


class CalendarYearRow(Base):
    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(32))
    example: Mapped[bool] = mapped_column(Boolean, default=False)
    notice: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    days: Mapped[dict[str, Any]] = mapped_column(JSONB)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint(_in("source", CALENDAR_SOURCES), name="known_source"),)
