"""Who holds an ID number or credit code: shared by the registration activities (binding an account) and the API
(refusing a registration whose number already has a verified account)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.binding_models import AccountBinding


async def verified_holder(session: AsyncSession, kind: str, identifier: str) -> str | None:
    """The user name of the verified account of this kind bound to this ID number or credit code, if any."""
    found: str | None = await session.scalar(
        select(AccountBinding.username).where(
            AccountBinding.kind == kind, AccountBinding.identifier == identifier, AccountBinding.status == "verified"
        )
    )
    return found
