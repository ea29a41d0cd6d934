"""Test data: valid identifiers made on demand, and dates relative to today (China time)."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

from subsidy.policy.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_character, resident_id_check_character
from subsidy.policy.workdays import china_today
from subsidy.programs.rent_subsidy.rules import add_months

_serial = itertools.count(random.randrange(1, 500))


def new_resident_id(region: str = "150203", born: date = date(1988, 6, 1)) -> str:
    """A valid, unique resident ID: each test person is a different person."""
    serial = next(_serial) % 1000
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    return first17 + resident_id_check_character(first17)


def new_resident_id_of(sex: str, born: date, region: str = "150203") -> str:
    """A valid, unique resident ID of a man ("M", odd 17th digit) or a woman ("F")."""
    while True:
        id_number = new_resident_id(region, born)
        if (int(id_number[16]) % 2 == 1) == (sex == "M"):
            return id_number


def new_credit_code(region: str = "150203") -> str:
    """A valid, unique unified social credit code: each test employer is a different employer."""
    serial = "".join(random.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    first17 = f"91{region}{serial}"
    return first17 + credit_code_check_character(first17)


def with_bad_checksum(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


def months_ago(months: int, days: int = 0) -> date:
    return add_months(china_today(), -months) - timedelta(days=days)


def rent_form(
    *,
    id_number: str | None = None,
    monthly_rent: str = "1200.00",
    license_date: date | None = None,
    started_on: date | None = None,
    lease_start: date | None = None,
    lease_end: date | None = None,
    hukou_county: str = "150203",
    business_type: str = "general",
) -> dict[str, object]:
    id_number = id_number or new_resident_id()
    license_date = license_date or months_ago(13)
    return {
        "program": "rent_subsidy",
        "applicant": {
            "name": "张三",
            "id_number": id_number,
            "disability_cert_number": id_number + "42",
            "hukou_county": hukou_county,
            "phone": "13800000000",
        },
        "business": {
            "name": "小店",
            "credit_code": "91150203MA0N12345B",
            "license_date": license_date.isoformat(),
            "business_type": business_type,
            "started_on": (started_on or license_date).isoformat(),
        },
        "lease": {
            "monthly_rent": monthly_rent,
            "start_date": (lease_start or license_date).isoformat(),
            "end_date": (lease_end or add_months(license_date, 48)).isoformat(),
        },
        "bank_account": "6222020000000000000",
    }


def training_body(
    trainees: list[str], *, start: date | None = None, county: str = "150203", planned_cost: str = "6000.00"
) -> dict[str, Any]:
    """A training provider's class plan: a 5-day, 40-hour welding course that ended nine days ago."""
    start = start or china_today() - timedelta(days=9)
    return {
        "program": "training_subsidy",
        "county": county,
        "course": {
            "code": "6-18-02-04",
            "title": "焊工（初级）",
            "level": "初级",
            "kind": "vocational",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=6)).isoformat(),
            "class_days": 5,
            "class_hours": 40,
        },
        "trainees": [
            {"name": name, "id_number": number, "disability_cert_number": number + "42"}
            for name, number in zip(("王一", "李二", "赵三", "钱四"), trainees, strict=False)
        ],
        "planned_cost": planned_cost,
    }


def own_rent_form(username: str, **fields: Any) -> dict[str, Any]:
    """A rent application of a demo applicant account for the person it is bound to (subsidy/service/seed.py)."""
    from subsidy.service.seed import DEMO_BINDINGS

    bound = DEMO_BINDINGS[username]
    body = rent_form(id_number=bound.identifier, hukou_county=bound.county, **fields)
    body["applicant"].update(name=bound.name, disability_cert_number=bound.disability_cert_number)  # type: ignore[union-attr]
    return body
