"""The API side of the county annual report: nobody submits one and it takes no events (the round opens it)."""

from __future__ import annotations

from typing import Any

from subsidy.api.errors import Forbidden, Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.programs.model import StartContext
from subsidy.workflows.contracts import Actor


def report_input(context: StartContext, form: Any) -> Any:
    raise Forbidden("the county annual report is opened each year by the service's schedule, not submitted")


def report_event(application: Application, event: EventIn, actor: Actor) -> Any:
    raise Invalid("type", f"{event.type} is not an event of the county annual report")
