"""Who handles which money: a county's finance officer the county's shares, the city's finance officer (an account of
role `finance` with no county) the city's shares of every county."""

from __future__ import annotations

from subsidy.api.errors import Forbidden
from subsidy.api.security import Identity

FINANCE = "finance"


def is_city_finance(identity: Identity) -> bool:
    return identity.has(FINANCE) and identity.county is None


def require_finance(identity: Identity) -> None:
    if not identity.has(FINANCE):
        raise Forbidden("payment batches are for finance officers")


def require_scope(identity: Identity, funder: str, county: str) -> None:
    """403 unless the caller is a finance officer of this funder and county."""
    require_finance(identity)
    if funder == "city" and not is_city_finance(identity):
        raise Forbidden("the city's shares are for the city's finance officers")
    if funder == "county" and identity.county != county:
        raise Forbidden("a county's shares are for that county's finance officers")


def funder_of(identity: Identity) -> str:
    """The funder whose shares the caller handles."""
    return "city" if is_city_finance(identity) else "county"


def reads_all_payments(identity: Identity) -> bool:
    return identity.has("auditor", "admin", "city_dpf") or is_city_finance(identity)
