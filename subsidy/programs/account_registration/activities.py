"""Binding accounts: the County DPF's verification of a registration, and the demo and test accounts bound the same way.

`verify_binding` is the one place an account becomes bound (its binding `verified`, its role granted), under a
transaction-scoped advisory lock on the ID number or credit code, so two approvals for one person cannot both win;
the partial unique index `ux_account_bindings_verified` holds the rule in the database as well.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.db.audit_chain import append_audit
from subsidy.db.binding_models import ROLE_OF_KIND, AccountBinding
from subsidy.db.bindings_lookup import verified_holder
from subsidy.db.models import User
from subsidy.programs.account_registration.contracts import (
    SETTLE_REGISTRATION,
    RegistrationOutcome,
    RegistrationSettlement,
)

IDENTIFIER_ALREADY_BOUND = "identifier_already_bound"


async def lock_identifier(session: AsyncSession, kind: str, identifier: str) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"binding:{kind}:{identifier}"}
    )


async def verify_binding(session: AsyncSession, binding: AccountBinding, by: str, at: datetime) -> list[str]:
    """Bind the account: refused (reason codes, nothing written) when another verified account holds the identifier."""
    await lock_identifier(session, binding.kind, binding.identifier)
    holder = await verified_holder(session, binding.kind, binding.identifier)
    if holder is not None and holder != binding.username:
        return [IDENTIFIER_ALREADY_BOUND]
    binding.status, binding.decided_by, binding.decided_at, binding.reason = "verified", by, at, None
    await session.execute(
        update(User).where(User.username == binding.username).values(roles=[ROLE_OF_KIND[binding.kind]])
    )
    return []


async def create_bound_account(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    kind: str,
    name: str,
    identifier: str,
    county: str,
    disability_cert_number: str | None = None,
    display_name: str | None = None,
    by: str = "system",
) -> list[str]:
    """An account bound at once (demo accounts, tests), through `verify_binding`; an existing one is left as it is."""
    await session.execute(
        insert(User)
        .values(username=username, display_name=display_name or username, password_hash=password_hash, roles=[])
        .on_conflict_do_nothing(index_elements=[User.username])
    )
    existing = await session.get(AccountBinding, username)
    if existing is not None:
        return []
    binding = AccountBinding(
        username=username,
        kind=kind,
        name=name,
        identifier=identifier,
        disability_cert_number=disability_cert_number,
        county=county,
        status="pending",
    )
    session.add(binding)
    await session.flush()
    return await verify_binding(session, binding, by, datetime.now(UTC))


class RegistrationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.settle_registration]

    @activity.defn(name=SETTLE_REGISTRATION)
    async def settle_registration(self, settlement: RegistrationSettlement) -> RegistrationOutcome:
        """Approve: bind the account (or refuse, writing nothing). Reject: leave it unbound with the reason."""
        registration_id = uuid.UUID(settlement.application_id)
        at = datetime.now(UTC)
        async with self._sessions.begin() as session:
            binding = await session.scalar(
                select(AccountBinding).where(AccountBinding.registration_id == registration_id).with_for_update()
            )
            assert binding is not None, "a registration without its account binding"
            if binding.status != "pending":  # a retry after the commit
                return RegistrationOutcome()
            if settlement.decision == "approve":
                reasons = await verify_binding(session, binding, settlement.by, at)
                if reasons:
                    return RegistrationOutcome(reasons)
            else:
                binding.status, binding.decided_by, binding.decided_at = "rejected", settlement.by, at
                binding.reason = settlement.reason
            await append_audit(
                session,
                kind="account_bound" if settlement.decision == "approve" else "registration_rejected",
                actor=settlement.by,
                at=at,
                application_id=registration_id,
                detail={"username": binding.username, "kind": binding.kind, "county": binding.county},
                dedup_key=f"registration:{registration_id}",
            )
            return RegistrationOutcome()
