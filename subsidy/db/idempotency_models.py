"""What a submission's Idempotency-Key was first sent with: the SHA-256 of its canonical body.

The same key from the same user returns the first application; the key with another body is refused (422), so a
client that reuses a key by mistake learns it instead of getting an answer about a body it did not send.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base


class SubmissionBody(Base):
    __tablename__ = "submission_bodies"

    application_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("applications.id"), primary_key=True
    )
    # Hex SHA-256 of the validated form as canonical JSON (sorted keys, no spaces): the form as stored, so typing
    # differences that the form normalises ("1200" and "1200.00") are the same body.
    body_sha256: Mapped[str] = mapped_column(String(64))
