"""Server-side sessions and the counters that slow down password guessing (PostgreSQL, shared by every API process).

A session's secret is only ever in the browser's cookie or the client's bearer token; the table keeps its SHA-256.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base

SESSION_KINDS = ("page", "api")


class AuthSession(Base):
    """One signed-in browser (`page`) or one bearer token (`api`); revoked by sign-out, disabling, password change."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), ForeignKey("users.username", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('page', 'api')", name="session_kind"),
        Index("ix_sessions_username", "username"),
        Index("ix_sessions_expires_at", "expires_at"),
    )


class SignInAccount(Base):
    """Consecutive failed sign-ins of an existing account (from any client), for its progressive delay."""

    __tablename__ = "sign_in_accounts"

    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInClient(Base):
    """Failed and refused sign-ins of one client address in one fixed window: one row per client and window, never
    one per attempt. `anonymous` counts the failures for user names that are no account; `audited` how many of
    `anonymous + refused` an aggregated audit record already covers."""

    __tablename__ = "sign_in_clients"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    anonymous: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    audited: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_sign_in_clients_window_start", "window_start"),)
