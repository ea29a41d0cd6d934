"""The append-only, hash-chained audit log.

Each row's hash covers its content and the previous row's hash, so changing or deleting any row breaks
the chain from there on. Appends take a transaction-scoped advisory lock so the chain has one order.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import AuditRecord

GENESIS = "0" * 64
_CHAIN_LOCK = 0x5B51D1  # any constant: names the advisory lock that orders the chain


def record_hash(
    *,
    prev_hash: str,
    at: datetime,
    kind: str,
    actor: str,
    application_id: uuid.UUID | None,
    detail: dict[str, Any],
) -> str:
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "kind": kind,
            "actor": actor,
            "application_id": str(application_id) if application_id else None,
            "detail": detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def append_audit(
    session: AsyncSession,
    *,
    kind: str,
    actor: str,
    at: datetime,
    application_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> None:
    """Append one record in the caller's transaction; a repeated `dedup_key` (a retried activity) adds nothing."""
    at = at.astimezone(UTC)
    # The lock first, in a statement of its own: the read below must see what the lock's previous holder committed.
    await session.execute(_TAKE_CHAIN_LOCK, {"key": _CHAIN_LOCK})
    # One round trip: is this record there already (a retried activity), and the chain's last hash.
    seen, prev = (await session.execute(_SEEN_AND_LAST_HASH, {"dedup_key": dedup_key})).one()
    if seen is not None:
        return
    prev = prev or GENESIS
    # Round-trip through JSON so the hash is computed over exactly what JSONB stores.
    clean_detail: dict[str, Any] = json.loads(json.dumps(detail or {}, default=str, ensure_ascii=False))
    row = {
        "at": at,
        "kind": kind,
        "actor": actor,
        "application_id": application_id,
        "detail": clean_detail,
        "dedup_key": dedup_key,
        "prev_hash": prev,
        "hash": record_hash(
            prev_hash=prev, at=at, kind=kind, actor=actor, application_id=application_id, detail=clean_detail
        ),
    }
    # A Core insert: the ORM's unit of work (add, flush) cost more than the statement for a row nobody reads back.
    await session.execute(_INSERT_RECORD, row)


_TAKE_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_SEEN_AND_LAST_HASH = select(
    select(AuditRecord.id).where(AuditRecord.dedup_key == bindparam("dedup_key")).scalar_subquery(),
    select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1).scalar_subquery(),
)
_INSERT_RECORD = insert(AuditRecord.__table__)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    first_bad_row: int | None


async def verify_chain(session: AsyncSession, batch: int = 5000) -> ChainCheck:
    """Recompute every hash in id order: a changed, deleted, inserted or reordered row breaks the chain there."""
    prev = GENESIS
    rows = 0
    last_id = 0
    while True:
        records = (
            await session.scalars(
                select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(batch)
            )
        ).all()
        if not records:
            return ChainCheck(True, rows, None)
        for record in records:
            rows += 1
            expected = record_hash(
                prev_hash=prev,
                at=record.at,
                kind=record.kind,
                actor=record.actor,
                application_id=record.application_id,
                detail=record.detail,
            )
            if record.prev_hash != prev or record.hash != expected:
                return ChainCheck(False, rows, record.id)
            prev = record.hash
            last_id = record.id
