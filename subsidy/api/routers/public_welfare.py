"""Public-welfare posts as the read model holds them: what a county's declarations ask for and what places are free.

The County DPF's collection task sees its county's declarations of a year together here (`?county=&year=`), County
HR the posts it decides on, an employer its own posts and their ids for a placement. Scoped like applications.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import func, select

from subsidy.api.deps import CurrentUser, PageDep, SessionDep
from subsidy.api.errors import documented
from subsidy.api.read_model import application_scope
from subsidy.api.schemas import MoneyOut
from subsidy.db.models import Application
from subsidy.db.person_holds import HOLDS_PLACE
from subsidy.programs.public_welfare.models import PublicWelfarePlacement, PublicWelfarePost

router = APIRouter(prefix="/api/v1/public-welfare-posts", tags=["public-welfare posts"], responses=documented(401))


class PublicWelfarePostOut(BaseModel):
    id: str
    application_id: str
    number: int
    county: str
    year: int
    employer: str
    title: str
    category: str
    places: int
    places_taken: int
    monthly_wage: MoneyOut
    status: str
    declaration_status: str


@router.get("", response_model=list[PublicWelfarePostOut])
async def list_posts(
    identity: CurrentUser,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Literal["declared", "approved", "rejected", "withdrawn"] | None = None,
    application_id: uuid.UUID | None = None,
) -> list[PublicWelfarePostOut]:
    taken = (
        select(PublicWelfarePlacement.post_id, func.count().label("taken"))
        .join(Application, Application.id == PublicWelfarePlacement.application_id)
        .where(Application.status.in_(HOLDS_PLACE))
        .group_by(PublicWelfarePlacement.post_id)
        .subquery()
    )
    query = (
        select(PublicWelfarePost, Application, func.coalesce(taken.c.taken, 0))
        .join(Application, Application.id == PublicWelfarePost.application_id)
        .outerjoin(taken, taken.c.post_id == PublicWelfarePost.id)
        .where(application_scope(identity))
    )
    if county:
        query = query.where(PublicWelfarePost.county == county)
    if year:
        query = query.where(PublicWelfarePost.year == year)
    if status:
        query = query.where(PublicWelfarePost.status == status)
    if application_id:
        query = query.where(PublicWelfarePost.application_id == application_id)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    rows = (
        await db.execute(
            query.order_by(Application.submitted_at, PublicWelfarePost.application_id, PublicWelfarePost.number)
            .limit(paging.limit)
            .offset(paging.offset)
        )
    ).all()
    return [
        PublicWelfarePostOut(
            id=str(post.id),
            application_id=str(post.application_id),
            number=post.number,
            county=post.county,
            year=post.year,
            employer=str(declaration.form.get("employer", {}).get("name", "")),
            title=post.title,
            category=post.category,
            places=post.places,
            places_taken=int(places_taken),
            monthly_wage=Decimal(post.monthly_wage),
            status=post.status,
            declaration_status=declaration.status,
        )
        for post, declaration, places_taken in rows
    ]
