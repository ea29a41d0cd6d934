from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import func, select

from subsidy.api import procedures
from subsidy.api.deps import ApplicationIdPath, CodeQuery, CurrentUser, PageDep, ResourcesDep, SessionDep
from subsidy.api.errors import documented
from subsidy.api.read_model import application_out, application_scope, get_visible_application, summary_out
from subsidy.api.schemas import ApplicationOut, ApplicationSummary, EventIn
from subsidy.db.models import Application, Person
from subsidy.programs.registry import PROGRAMS, ApplicationForm

router = APIRouter(
    prefix="/api/v1/applications", tags=["applications"], responses=documented(400, 401, 403, 404, 409, 413, 503)
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description="the same key from the same user returns the same application",
    ),
]


@router.post("", response_model=ApplicationOut, status_code=201, responses={200: {"model": ApplicationOut}})
async def create_application(
    form: ApplicationForm,
    identity: CurrentUser,
    db: SessionDep,
    res: ResourcesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ApplicationOut:
    application, created = await procedures.submit_application(
        db, res.temporal, res.settings.task_queue, identity, form, idempotency_key, res.settings.today()
    )
    if not created:
        response.status_code = 200
    return await application_out(db, application)


@router.get("", response_model=list[ApplicationSummary])
async def list_applications(
    identity: CurrentUser,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    program: CodeQuery = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,16}$")] = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> list[ApplicationSummary]:
    query = select(Application).where(application_scope(identity))
    if program:
        query = query.where(Application.program == program)
    if status:
        query = query.where(Application.status == status)
    if county:
        query = query.where(Application.county == county)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    rows = (
        await db.execute(
            query.add_columns(Person)
            .outerjoin(Person, Person.id == Application.person_id)
            .order_by(Application.submitted_at.desc(), Application.id)
            .limit(paging.limit)
            .offset(paging.offset)
        )
    ).all()
    return [summary_out(application, person) for application, person in rows]


@router.get("/{application_id}", response_model=ApplicationOut)
async def get_application(application_id: ApplicationIdPath, identity: CurrentUser, db: SessionDep) -> ApplicationOut:
    return await application_out(db, await get_visible_application(db, application_id, identity))


@router.post("/{application_id}/events", response_model=ApplicationOut)
async def post_event(
    application_id: ApplicationIdPath, event: EventIn, identity: CurrentUser, db: SessionDep, res: ResourcesDep
) -> ApplicationOut:
    application = await get_visible_application(db, application_id, identity)
    request = PROGRAMS[application.program].event(application, event, procedures.actor_of(identity))
    await db.commit()
    await procedures.send_event(res.temporal, application.workflow_id, request)
    await db.refresh(application)
    return await application_out(db, application)
