"""Registrations counted per client address (registration needs no token): one row per client and window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base


class RegistrationClient(Base):
    """Registrations tried by one client address in one fixed window of an hour (migration 0014)."""

    __tablename__ = "registration_clients"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    registrations: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_registration_clients_window_start", "window_start"),)
