"""To whom a payment goes: the party that claimed it, and the bank account on record for the application (the form's,
until the payee corrects it after a failure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import Application
from subsidy.db.payment_models import BankAccountChange

# The claiming party of each form, first found first: an agency claims a referral for the person it placed, an
# employer for its employees, a provider for its trainees, a person for themself.
_PAYEE_PARTS = ("agency", "employer", "provider", "applicant", "person")


@dataclass(frozen=True)
class Payee:
    name: str
    account: str | None


def payee_name(form: dict[str, Any]) -> str:
    for part in _PAYEE_PARTS:
        value = form.get(part)
        if isinstance(value, dict) and value.get("name"):
            return str(value["name"])
    return ""


async def current_accounts(session: AsyncSession, application_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The latest corrected account of each application that has one."""
    found: dict[uuid.UUID, str] = {}
    rows = await session.execute(
        select(BankAccountChange.application_id, BankAccountChange.account)
        .where(BankAccountChange.application_id.in_(application_ids))
        .order_by(BankAccountChange.application_id, BankAccountChange.id)
    )
    for application_id, account in rows:
        found[application_id] = account
    return found


def payee_of(application: Application, corrected: dict[uuid.UUID, str]) -> Payee:
    form: dict[str, Any] = application.form or {}
    account = corrected.get(application.id) or form.get("bank_account") or None
    return Payee(payee_name(form), account)


def masked_account(number: str | None) -> str:
    return "" if not number else "*" * max(len(number) - 4, 0) + number[-4:]
