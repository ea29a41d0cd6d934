"""Two checks of a submission that need the database: the Idempotency-Key's first body, and the person's name.

- **The same key with another body** is refused (422 `idempotency_key_reused`, `loc` the header): the key stands for
  one submission, and answering with the first application would silently drop what the second body says. The body
  compared is the validated form as stored (canonical JSON, SHA-256 in `submission_bodies`), so the same form typed
  differently ("1200" and "1200.00") is the same body and gets the first answer.
- **A name that differs from the person's stored one** (the same resident ID) is recorded, not dropped: the person's
  row takes the new name — the newest application is the person's word on it, and a legal change of name keeps the
  resident ID — and the audit log gets a `person_renamed` record with both names, on the application that changed
  it, for officials and auditors to see.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Invalid
from subsidy.db.audit_chain import append_audit
from subsidy.db.idempotency_models import SubmissionBody
from subsidy.db.models import Application, Person

IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
PERSON_RENAMED = "person_renamed"


def body_digest(form: BaseModel) -> str:
    canonical = json.dumps(form.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def refuse_another_body(session: AsyncSession, application: Application, digest: str) -> None:
    """422 if the key's application was first sent with another body (none recorded: sent before this check)."""
    first = await session.scalar(
        select(SubmissionBody.body_sha256).where(SubmissionBody.application_id == application.id)
    )
    if first is not None and first != digest:
        refusal = Invalid(
            "",
            "this Idempotency-Key was already used with another body: use a new key for a new submission",
            code=IDEMPOTENCY_KEY_REUSED,
        )
        refusal.detail[0]["loc"] = ["header", "Idempotency-Key"]  # type: ignore[index]
        raise refusal


async def record_body(session: AsyncSession, application_id: uuid.UUID, digest: str) -> None:
    await session.execute(
        insert(SubmissionBody).values(application_id=application_id, body_sha256=digest).on_conflict_do_nothing()
    )


async def person_row(session: AsyncSession, id_number: str, name: str) -> tuple[uuid.UUID, str | None]:
    """The person's id (the row written or found, and so locked), and their stored name if it was another."""
    person_id, stored = (
        await session.execute(
            insert(Person)
            .values(id=uuid.uuid4(), id_number=id_number, name=name)
            .on_conflict_do_update(index_elements=[Person.id_number], set_={"id_number": id_number})
            .returning(Person.id, Person.name)
        )
    ).one()
    if stored == name:
        return person_id, None
    await session.execute(update(Person).where(Person.id == person_id).values(name=name))
    return person_id, stored


async def record_rename(
    session: AsyncSession, *, actor: str, application_id: uuid.UUID, person_id: uuid.UUID, previous: str, name: str
) -> None:
    await append_audit(
        session,
        kind=PERSON_RENAMED,
        actor=actor,
        at=datetime.now(UTC),
        application_id=application_id,
        detail={"person_id": str(person_id), "previous_name": previous, "name": name},
    )
