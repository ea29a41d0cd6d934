"""Messages of the shared policy data activities: the minimum wage in force, and the person registry's records.

No `from __future__ import annotations` here: the annotations are the types themselves, so that the data converter
builds a result's type without resolving names, also inside an update handler in Temporal's sandbox (where
`MinimumWageUsed` as text was once "not fully defined").
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass
class MinimumWageQuery:
    county: str
    on: date  # the day the program's rule names


@dataclass
class MinimumWageUsed:
    """The standard a claim used, recorded with the decision; `found` False: no standard names the county then."""

    found: bool
    county: str
    on: date
    tier: int = 0
    monthly: Decimal = Decimal("0.00")
    standard: str = ""
    document: str = ""
    valid_from: date | None = None

    def words(self) -> str:
        if not self.found:
            return f"no minimum wage standard for county {self.county} on {self.on.isoformat()}"
        return (
            f"monthly minimum wage {self.monthly} (tier {self.tier}, {self.standard}, in force from "
            f"{self.valid_from.isoformat() if self.valid_from else '?'}) on {self.on.isoformat()}"
        )


@dataclass
class PersonRecordsChange:
    """Grant or release the person registry records an application holds."""

    application_id: str
    reason: str  # why, for the audit log: approved, rejected, withdrawn, employment_ended...
    actor: str = "system"
