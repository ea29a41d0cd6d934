"""Grant or release what an application holds in the person registry (`subsidy.db.person_records`), with the
audit record; idempotent: a retry finds nothing left to change and writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.names import GRANT_PERSON_RECORDS, RELEASE_PERSON_RECORDS
from subsidy.db.audit_chain import append_audit
from subsidy.db.person_records import grant_claims, release_claims
from subsidy.workflows.shared_data_contracts import PersonRecordsChange


class PersonRecordActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.grant_person_records, self.release_person_records]

    @activity.defn(name=GRANT_PERSON_RECORDS)
    async def grant_person_records(self, change: PersonRecordsChange) -> int:
        return await self._change(change, grant_claims, "person_records_granted")

    @activity.defn(name=RELEASE_PERSON_RECORDS)
    async def release_person_records(self, change: PersonRecordsChange) -> int:
        return await self._change(change, release_claims, "person_records_released")

    async def _change(self, change: PersonRecordsChange, apply: Any, kind: str) -> int:
        application_id = uuid.UUID(change.application_id)
        async with self._sessions.begin() as session:
            changed: int = await apply(session, application_id)
            if changed:
                await append_audit(
                    session,
                    kind=kind,
                    actor=change.actor,
                    at=datetime.now(UTC),
                    application_id=application_id,
                    detail={"records": changed, "reason": change.reason},
                )
            return changed
