"""The monthly minimum wage standards on a page: what every reward that multiplies the minimum wage uses.

Administrators and City DPF officials see each standard (its document, the day it takes effect, the amount of each
tier and the tier of each county, and what in it is an assumption); an administrator loads a later standard from a
file of the shipped file's shape (subsidy/policy/shipped/minimum-wage.yaml), as `subsidy minimum-wage load` does. A
stored standard is never changed: claims may have used it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from subsidy.api.deps import SessionDep
from subsidy.api.errors import Forbidden
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.security import Identity
from subsidy.db.minimum_wages import store_standard, stored_standards
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.minimum_wage import MinimumWageStandard, read_standards

router = APIRouter(include_in_schema=False)
PATH = "/admin/minimum-wages"
FIELD_ID = "standards_file"
MAX_FILE_BYTES = 64 * 1024
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


@dataclass(frozen=True)
class FileProblem:
    field_id: str
    label: str
    message: str
    prefix: str


def _reader(request: Request) -> Identity:
    identity = require_user(request)
    if not (identity.has("admin") or identity.has("city_dpf")):
        raise Forbidden("this page is for administrators and City DPF officials")
    return identity


def _rows(request: Request, standard: MinimumWageStandard) -> list[dict[str, Any]]:
    names = BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES
    return [
        {
            "tier": tier,
            "monthly": amount,
            "counties": [
                names.get(county, county) for county, of in sorted(standard.county_tiers.items()) if of == tier
            ],
        }
        for tier, amount in sorted(standard.monthly_by_tier.items())
    ]


async def _page(
    request: Request,
    db: SessionDep,
    identity: Identity,
    *,
    problems: list[FileProblem] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    standards = sorted(await stored_standards(db), key=lambda s: s.valid_from, reverse=True)
    return render(
        request,
        "admin_minimum_wages.html",
        {
            "title": _("Monthly minimum wage standards"),
            "standards": [{"standard": s, "tiers": _rows(request, s)} for s in standards],
            "may_load": identity.has("admin"),
            "errors": problems or [],
            "file_error": problems[0] if problems else None,
            "notice": notice,
            "field_id": FIELD_ID,
            "path": PATH,
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(PATH, response_class=HTMLResponse)
async def minimum_wages_page(
    request: Request, db: SessionDep, loaded: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None
) -> Response:
    identity = _reader(request)
    _ = gettext_for(request)
    notice = _("The standard %(code)s is loaded.") % {"code": loaded} if loaded else None
    return await _page(request, db, identity, notice=notice)


@router.post(PATH, response_class=HTMLResponse)
async def load_standards(request: Request, db: SessionDep) -> Response:
    identity = _reader(request)
    if not identity.has("admin"):
        raise Forbidden("only an administrator loads a minimum wage standard")
    form = await checked_form(request)
    _ = gettext_for(request)
    upload = form.get(FIELD_ID)
    data = b""
    if isinstance(upload, UploadFile):
        data = await upload.read(MAX_FILE_BYTES + 1)
    label, prefix = _("Standards file"), _("Error:")
    problems: list[FileProblem] = []
    if not data:
        problems.append(FileProblem(FIELD_ID, label, _("Choose the file to load."), prefix))
    elif len(data) > MAX_FILE_BYTES:
        problems.append(FileProblem(FIELD_ID, label, _("The file is too large for a standards file."), prefix))
    else:
        try:
            standards = read_standards(data.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(FileProblem(FIELD_ID, label, _("The file is not UTF-8 text."), prefix))
        except (ValueError, TypeError, ArithmeticError, AttributeError) as error:
            # The checks' own words name the key: shown as they are, after a translated lead.
            problems.append(FileProblem(FIELD_ID, label, str(error).splitlines()[0][:300], prefix))
        else:
            known = {s.code for s in await stored_standards(db)}
            taken = [s.code for s in standards if s.code in known]
            if taken:
                message = _("A standard with this code is stored already and is never changed: %(codes)s")
                problems.append(FileProblem(FIELD_ID, label, message % {"codes": ", ".join(taken)}, prefix))
            elif not standards:
                problems.append(FileProblem(FIELD_ID, label, _("The file lists no standard."), prefix))
            else:
                for standard in standards:
                    await store_standard(db, standard, loaded_by=identity.username)
                await db.commit()
                return RedirectResponse(f"{PATH}?loaded={standards[-1].code}", status_code=303)
    return await _page(request, db, identity, problems=problems, status_code=400)
