from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field

from subsidy.api import policy_versions
from subsidy.api.deps import CurrentUser, SessionDep
from subsidy.api.errors import documented
from subsidy.api.schemas import PolicyOut
from subsidy.db.models import PolicyVersionRow
from subsidy.forms.text import PlainText
from subsidy.policy.files import VERSION_CODE_PATTERN

router = APIRouter(prefix="/api/v1", tags=["policies"])

PolicyIdPath = Annotated[
    str, Path(pattern=VERSION_CODE_PATTERN, max_length=64, description="the policy version's id (its code)")
]


class Change(BaseModel):
    path: str = Field(description="dotted, e.g. rent.monthly_cap")
    in_force: Any = Field(description="the value in the version in force (null: it has none)")
    proposed: Any


class PolicyLoaded(BaseModel):
    id: str
    status: str = Field(description="pending: it applies once a second official approves it")
    compared_with: str | None = Field(description="the version in force on its first day (else the latest approved)")
    difference: list[Change]


class RejectIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000), PlainText]


def policy_out(row: PolicyVersionRow) -> PolicyOut:
    return PolicyOut(
        id=row.code,
        code=row.code,
        jurisdiction=row.jurisdiction,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        parameters=row.parameters,
        status=row.status,
        loaded_by=row.loaded_by,
        loaded_at=row.loaded_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        rejected_by=row.rejected_by,
        rejected_at=row.rejected_at,
        rejection_reason=row.rejection_reason,
        source=row.source,
        difference=row.difference,
    )


@router.get("/policies", response_model=list[PolicyOut])
async def policies(db: SessionDep) -> list[PolicyOut]:
    """Every policy version with its effective window, all its parameters and who loaded and approved it (public
    information). Only `approved` versions apply; `valid_to` is the window in force (a newer version's approval
    may have closed it), `parameters` the version exactly as loaded."""
    return [policy_out(row) for row in await policy_versions.listed(db)]


@router.post("/policies", response_model=PolicyLoaded, status_code=201, responses=documented(400, 401, 403, 409, 413))
async def load_policy(
    identity: CurrentUser,
    db: SessionDep,
    version_file: Annotated[
        dict[str, Any],
        Body(
            description="a policy version file as JSON: the shape of `parameters` in GET /api/v1/policies, or a "
            "whole entry of that list with a new id (code) and window"
        ),
    ],
) -> PolicyLoaded:
    """Load a policy version (role `admin`): checked against every program's parameter schema (422 lists each
    problem with its path), refused when its code exists or its window overlaps an approved version (409), stored
    as `pending` with its difference to the version in force."""
    if not identity.has(*policy_versions.LOADER_ROLES):
        raise policy_versions.Forbidden("loading a policy version needs the role: admin")
    version = policy_versions.check_file(version_file)
    row = await policy_versions.load_version(
        db, version, loaded_by=identity.username, roles=identity.roles, source="POST /api/v1/policies"
    )
    await db.commit()  # before the answer: the client may read the list at once
    return PolicyLoaded(id=row.code, status=row.status, compared_with=_compared(row), difference=row.difference or [])


@router.post("/policies/{policy_id}/approve", response_model=PolicyOut, responses=documented(401, 403, 404, 409, 413))
async def approve_policy(policy_id: PolicyIdPath, identity: CurrentUser, db: SessionDep) -> PolicyOut:
    """A second official (`admin` or `city_dpf`, not the one who loaded it: 403) puts a pending version in force."""
    row = await policy_versions.approve_version(db, policy_id, username=identity.username, roles=identity.roles)
    await db.commit()
    return policy_out(row)


@router.post(
    "/policies/{policy_id}/reject", response_model=PolicyOut, responses=documented(400, 401, 403, 404, 409, 413)
)
async def reject_policy(policy_id: PolicyIdPath, body: RejectIn, identity: CurrentUser, db: SessionDep) -> PolicyOut:
    """An `admin` or `city_dpf` official (the loader too: a withdrawal) ends a pending version, with a reason."""
    row = await policy_versions.reject_version(
        db, policy_id, username=identity.username, roles=identity.roles, reason=body.reason
    )
    await db.commit()
    return policy_out(row)


def _compared(row: PolicyVersionRow) -> str | None:
    # Codes are never reused, so the difference to any version names that version's code.
    for change in row.difference or []:
        if change["path"] == "code":
            return change["in_force"]  # type: ignore[no-any-return]
    return None
