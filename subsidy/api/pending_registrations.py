"""Registrations waiting for verification, as the administrator and the County DPF see them (issue 12 part 1).

The County DPF of the registration's county verifies it, in its task (programs/account_registration/workflow.py);
the administrator (role `admin`, every county) and the County DPF (its own county) see the list of those waiting:
the user name, the kind, the name (a person's masked), the ID number masked or the credit code, the county, when
it was submitted and how long it has waited, the task's due date if it has one, who holds the task, and whether
it has waited past that due date. The API, the accounts page and `subsidy accounts registrations` come here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Forbidden
from subsidy.api.read_model import mask_id_number, mask_name
from subsidy.api.security import Identity
from subsidy.db.binding_models import AccountBinding
from subsidy.db.models import Application, Task
from subsidy.programs.account_registration.contracts import REGISTRATION_PROGRAM


class PendingRegistrationOut(BaseModel):
    """A registration waiting for the County DPF's verification."""

    id: str = Field(description="the registration's id (its task's application_id)")
    username: str
    kind: Literal["person", "employer", "provider", "agency"]
    name: str = Field(description="a person's name masked (张*), an organisation's in full")
    id_number_masked: str | None = None
    credit_code: str | None = None
    county: str
    submitted_at: datetime
    waited_seconds: int = Field(description="seconds since it was submitted")
    task_due_at: datetime | None = Field(default=None, description="the verification task's due date, if it has one")
    task_held_by: str | None = Field(default=None, description="the official who claimed the task, if anyone")
    overdue: bool = Field(description="it has waited past the task's due date")


def visible_county(identity: Identity, county: str | None) -> str | None:
    """The county whose registrations the caller may list: any (None: all) for `admin`, its own for `county_dpf`."""
    if identity.has("admin"):
        return county
    if identity.has("county_dpf") and identity.county is not None:
        if county is not None and county != identity.county:
            raise Forbidden("a County DPF official sees the registrations of their own county only")
        return identity.county
    raise Forbidden("this needs one of the roles: admin, county_dpf")


async def pending_registrations(
    db: AsyncSession, county: str | None, now: datetime, *, limit: int = 500, offset: int = 0
) -> list[PendingRegistrationOut]:
    """Pending registrations of `county` (all when None), the longest waiting first."""
    open_task = and_(Task.application_id == Application.id, Task.status.in_(("open", "claimed")))
    query = (
        select(AccountBinding, Application.submitted_at, Task.due_at, Task.claimed_by)
        .join(Application, Application.id == AccountBinding.registration_id)
        .outerjoin(Task, open_task)
        .where(AccountBinding.status == "pending", Application.program == REGISTRATION_PROGRAM)
        .order_by(Application.submitted_at, AccountBinding.username)
        .limit(limit)
        .offset(offset)
    )
    if county is not None:
        query = query.where(AccountBinding.county == county)
    rows = (await db.execute(query)).all()
    return [
        PendingRegistrationOut(
            id=str(binding.registration_id),
            username=binding.username,
            kind=binding.kind,
            name=mask_name(binding.name) if binding.kind == "person" else binding.name,
            id_number_masked=mask_id_number(binding.identifier) if binding.kind == "person" else None,
            credit_code=binding.identifier if binding.kind != "person" else None,
            county=binding.county,
            submitted_at=submitted_at,
            waited_seconds=max(0, int((now - submitted_at).total_seconds())),
            task_due_at=due_at,
            task_held_by=claimed_by,
            overdue=due_at is not None and now > due_at,
        )
        for binding, submitted_at, due_at, claimed_by in rows
    ]


def waited_parts(seconds: int) -> tuple[int, int, int]:
    """Days, hours and minutes waited (the pages and the CLI put them in words)."""
    days, rest = divmod(seconds, 86400)
    return days, rest // 3600, rest % 3600 // 60
