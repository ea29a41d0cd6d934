"""Policy versions as data: loaded by an administrator, in force once a second official approves them (four eyes).

One place for the API (`POST /api/v1/policies`), the admin pages, the `subsidy policy` command and the seed:

- **Loading** (role `admin` only: it is the system administrator's data work; the City DPF's officials check and
  approve it) reads a version file, checks it against the parameter schema (`subsidy.policy.files`), refuses a code
  that exists (a version's code is its id and is never reused, not even after a rejection) and a window that
  overlaps an approved version of the same jurisdiction, and stores it as `pending` with the difference to the
  version in force on its first day.
- **Approving** (`admin` or `city_dpf`, never the person who loaded it) makes it apply. An approved version whose
  window has no end and began earlier is closed the day before the new one starts — unless an application pinned to
  it was made on a day inside the part cut off: then the approval is refused (409), since a version in use never
  changes. Closing changes that version's `valid_to` only, never its parameters.
- **Rejecting** (`admin` or `city_dpf`, the loader included: withdrawing one's own load) ends a pending version.

Each of these is one transaction that takes the jurisdiction's lock, and each writes an audit record with its actor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, NotFound, ServiceError
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, PolicyVersionRow
from subsidy.policy.files import Problem, VersionFileError, difference, read_version
from subsidy.policy.versions import PolicyVersion, version_from_json, version_to_json

LOADER_ROLES = ("admin",)
APPROVER_ROLES = ("admin", "city_dpf")
SYSTEM = "system"
_JURISDICTION_LOCK = 0x9071C1  # with the jurisdiction's hash: one load or approval at a time per jurisdiction


class PolicyFileInvalid(ServiceError):
    """422 with one item per problem, its path in `loc` after "body"."""

    status_code = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(
            [
                {"loc": ["body", *(p.path.split(".") if p.path else [])], "msg": p.message, "type": "policy_schema"}
                for p in problems
            ]
        )
        self.problems = list(problems)


def check_file(content: str | bytes | dict[str, Any], name: str = "") -> PolicyVersion:
    try:
        return read_version(content, name)
    except VersionFileError as error:
        raise PolicyFileInvalid(error.problems) from None


async def version_in_force(session: AsyncSession, jurisdiction: str | None, day: Any) -> PolicyVersionRow | None:
    """The approved version in force on `day` (the latest to start, should windows ever overlap)."""
    query = (
        select(PolicyVersionRow)
        .where(PolicyVersionRow.status == "approved", PolicyVersionRow.valid_from <= day)
        .where((PolicyVersionRow.valid_to.is_(None)) | (PolicyVersionRow.valid_to >= day))
        .order_by(PolicyVersionRow.valid_from.desc())
        .limit(1)
    )
    if jurisdiction is not None:
        query = query.where(PolicyVersionRow.jurisdiction == jurisdiction)
    found: PolicyVersionRow | None = await session.scalar(query)
    return found


def stored_version(row: PolicyVersionRow) -> PolicyVersion:
    """The version as approved, in the window the listing shows (a closed window ends at `valid_to`)."""
    return dataclasses.replace(version_from_json(row.parameters), valid_from=row.valid_from, valid_to=row.valid_to)


async def compared_with(session: AsyncSession, version: PolicyVersion) -> tuple[str | None, list[dict[str, Any]]]:
    """The code of the version the proposal is compared with and the difference: the approved version in force on the
    proposal's first day, else the latest approved one of its jurisdiction, else nothing."""
    base = await version_in_force(session, version.jurisdiction, version.valid_from)
    if base is None:
        base = await session.scalar(
            select(PolicyVersionRow)
            .where(PolicyVersionRow.status == "approved", PolicyVersionRow.jurisdiction == version.jurisdiction)
            .order_by(PolicyVersionRow.valid_from.desc())
            .limit(1)
        )
    if base is None:
        return None, difference(None, version)
    return base.code, difference(stored_version(base), version)


async def load_version(
    session: AsyncSession,
    version: PolicyVersion,
    *,
    loaded_by: str,
    roles: Sequence[str],
    source: str | None,
    approved_by_system: bool = False,
) -> PolicyVersionRow:
    """Store a checked version as pending (the caller commits). The seed alone passes `approved_by_system`."""
    if not approved_by_system and not any(role in LOADER_ROLES for role in roles):
        raise Forbidden("loading a policy version needs the role: admin")
    await _lock(session, version.jurisdiction)
    if await session.get(PolicyVersionRow, version.code) is not None:
        raise Conflict(f"a policy version {version.code} exists already: give the new version a code of its own")
    await _refuse_overlaps(session, version)
    compared, changes = await compared_with(session, version)
    now = datetime.now(UTC)
    row = PolicyVersionRow(
        code=version.code,
        jurisdiction=version.jurisdiction,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        parameters=version_to_json(version),
        status="pending",
        loaded_by=loaded_by,
        loaded_at=now,
        source=source,
        difference=changes,
    )
    session.add(row)
    await session.flush()
    await append_audit(
        session,
        kind="policy_loaded",
        actor=loaded_by,
        at=now,
        detail={**_window(row), "source": source, "compared_with": compared, "difference": changes},
    )
    if approved_by_system:
        await _approve(session, row, SYSTEM)
    return row


async def approve_version(session: AsyncSession, code: str, *, username: str, roles: Sequence[str]) -> PolicyVersionRow:
    if not any(role in APPROVER_ROLES for role in roles):
        raise Forbidden("approving a policy version needs one of the roles: admin, city_dpf")
    row = await _pending(session, code)
    if row.loaded_by == username:
        raise Forbidden("four eyes: a policy version is approved by an official other than the one who loaded it")
    await _approve(session, row, username)
    return row


async def reject_version(
    session: AsyncSession, code: str, *, username: str, roles: Sequence[str], reason: str
) -> PolicyVersionRow:
    if not any(role in APPROVER_ROLES for role in roles):
        raise Forbidden("rejecting a policy version needs one of the roles: admin, city_dpf")
    row = await _pending(session, code)
    now = datetime.now(UTC)
    row.status, row.rejected_by, row.rejected_at, row.rejection_reason = "rejected", username, now, reason
    await session.flush()
    detail = {**_window(row), "reason": reason}
    await append_audit(session, kind="policy_rejected", actor=username, at=now, detail=detail)
    return row


async def listed(session: AsyncSession) -> list[PolicyVersionRow]:
    rows = await session.scalars(
        select(PolicyVersionRow).order_by(PolicyVersionRow.valid_from, PolicyVersionRow.loaded_at)
    )
    return list(rows.all())


async def _pending(session: AsyncSession, code: str) -> PolicyVersionRow:
    found = await session.get(PolicyVersionRow, code)
    if found is None:
        raise NotFound(f"no policy version {code}")
    await _lock(session, found.jurisdiction)
    row = await session.get(PolicyVersionRow, code, populate_existing=True, with_for_update=True)
    assert row is not None
    if row.status != "pending":
        raise Conflict(f"policy version {code} is {row.status}: only a pending version can be approved or rejected")
    return row


async def _approve(session: AsyncSession, row: PolicyVersionRow, approver: str) -> None:
    version = stored_version(row)
    closed = await _refuse_overlaps(session, version)
    now = datetime.now(UTC)
    detail: dict[str, Any] = _window(row)
    if closed is not None:
        # Only the window of the version in force closes; its parameters, as pinned, never change.
        closed.valid_to = version.valid_from - timedelta(days=1)
        detail["closed"] = {"code": closed.code, "valid_to": closed.valid_to.isoformat()}
    row.status, row.approved_by, row.approved_at = "approved", approver, now
    await session.flush()
    await append_audit(session, kind="policy_approved", actor=approver, at=now, detail=detail)


async def _refuse_overlaps(session: AsyncSession, version: PolicyVersion) -> PolicyVersionRow | None:
    """409 when the window overlaps an approved version of the jurisdiction; returns the open-ended one to close."""
    overlapping = (
        await session.scalars(
            select(PolicyVersionRow)
            .where(
                PolicyVersionRow.status == "approved",
                PolicyVersionRow.jurisdiction == version.jurisdiction,
                PolicyVersionRow.code != version.code,
            )
            .where((PolicyVersionRow.valid_to.is_(None)) | (PolicyVersionRow.valid_to >= version.valid_from))
            .where(true() if version.valid_to is None else PolicyVersionRow.valid_from <= version.valid_to)
            .order_by(PolicyVersionRow.valid_from)
        )
    ).all()
    closable = [row for row in overlapping if row.valid_to is None and row.valid_from < version.valid_from]
    others = [row for row in overlapping if row not in closable]
    if others:
        names = ", ".join(f"{row.code} ({_shown(row)})" for row in others)
        raise Conflict(f"the window {_shown(version)} overlaps the approved version {names}")
    if not closable:
        return None
    (open_ended,) = closable
    pinned_after = await session.scalar(
        select(func.min(cast(func.timezone("Asia/Shanghai", Application.submitted_at), Date))).where(
            Application.policy_version == open_ended.code,
            cast(func.timezone("Asia/Shanghai", Application.submitted_at), Date) >= version.valid_from,
        )
    )
    if pinned_after is not None:
        raise Conflict(
            f"{open_ended.code} cannot end before {version.valid_from.isoformat()}: an application made on "
            f"{pinned_after.isoformat()} is pinned to it (a version in use never changes); start the new version "
            "after the last such application"
        )
    return open_ended


def _shown(window: PolicyVersion | PolicyVersionRow) -> str:
    return f"{window.valid_from.isoformat()} to {window.valid_to.isoformat() if window.valid_to else 'no end'}"


def _window(row: PolicyVersionRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "jurisdiction": row.jurisdiction,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
    }


async def _lock(session: AsyncSession, jurisdiction: str) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:lock, hashtext(:jurisdiction))"),
        {"lock": _JURISDICTION_LOCK, "jurisdiction": jurisdiction},
    )
