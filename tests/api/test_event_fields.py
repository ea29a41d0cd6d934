"""Every program refuses an event field it does not use, naming it (issue 13: `_rent_event` silently dropped them)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.programs.registry import PROGRAMS
from subsidy.workflows.contracts import Actor
from tests.conftest import Acting
from tests.helpers import rent_form

EXTRA_FIELDS: dict[str, Any] = {
    "corrected": {"hukou_county": "150203"},
    "attendance": [{"id_number": "150203198806010010", "hours": 40}],
    "actual_cost": "100.00",
}
EVENT_TYPES = EventIn.model_fields["type"].annotation.__args__  # type: ignore[union-attr]


@pytest.mark.parametrize("code", sorted(PROGRAMS))
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_field_the_event_does_not_use_is_refused_by_name(code: str, event_type: str) -> None:
    program = PROGRAMS[code]
    actor = Actor("someone", ["applicant"])
    for name, value in EXTRA_FIELDS.items():
        if name in program.event_fields.get(event_type, ()):
            continue
        event = EventIn.model_validate({"type": event_type, name: value})
        with pytest.raises(Invalid) as refused:
            program.event(Application(form={}), event, actor)
        assert refused.value.detail[0]["loc"] == ["body", name]  # type: ignore[index]
        assert f"{name} is not a field of a {event_type} event" in refused.value.detail[0]["msg"]  # type: ignore[index]


async def test_a_rent_withdrawal_carrying_attendance_is_refused_over_http(
    http: httpx.AsyncClient, acting: Acting
) -> None:
    body = rent_form()
    applicant = await acting(body)
    created = await http.post("/api/v1/applications", json=body, headers=applicant)
    assert created.status_code == 201, created.text
    events = f"/api/v1/applications/{created.json()['id']}/events"
    refused = await http.post(
        events, json={"type": "withdrawn", "attendance": EXTRA_FIELDS["attendance"]}, headers=applicant
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "attendance"]
    still = (await http.get(f"/api/v1/applications/{created.json()['id']}", headers=applicant)).json()
    assert still["status"] != "withdrawn"
