"""The policy versions page: administrators load a version file (difference shown before it is confirmed); a
second official (admin or city_dpf, not the loader) approves it. The rules are those of the API
(subsidy.api.policy_versions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from subsidy.api import policy_versions
from subsidy.api.deps import SessionDep
from subsidy.api.errors import Forbidden, ServiceError
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.refusals import record_refusal
from subsidy.api.security import Identity
from subsidy.policy.files import VERSION_CODE_PATTERN

router = APIRouter(include_in_schema=False)
MAX_FILE_BYTES = 256 * 1024
POLICY_STATUS = {"pending": "Waiting for approval", "approved": "Approved", "rejected": "Rejected"}


def _official(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has(*policy_versions.APPROVER_ROLES):
        raise Forbidden("the policy versions page is for administrators and City DPF officials")
    return identity


def _loader(request: Request) -> Identity:
    identity = _official(request)
    if not identity.has(*policy_versions.LOADER_ROLES):
        raise Forbidden("loading a policy version needs the role: admin")
    return identity


async def _list_page(
    request: Request,
    db: SessionDep,
    identity: Identity,
    *,
    errors: list[FieldError] | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    return render(
        request,
        "admin_policies.html",
        {
            "title": _("Policy versions"),
            "versions": list(reversed(await policy_versions.listed(db))),
            "may_load": identity.has(*policy_versions.LOADER_ROLES),
            "errors": errors or [],
            "problem": problem,
            "notice": notice,
            "POLICY_STATUS": POLICY_STATUS,
        },
        identity=identity,
        status_code=status_code,
    )


@router.get("/admin/policies", response_class=HTMLResponse)
async def policies_page(
    request: Request,
    db: SessionDep,
    loaded: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]*$")] = "",
    approved: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]*$")] = "",
) -> Response:
    identity = _official(request)
    _ = gettext_for(request)
    notice = None
    if loaded:
        notice = _("%(code)s is loaded and waits for a second official's approval.") % {"code": loaded}
    elif approved:
        notice = _("%(code)s is approved: it applies to applications made in its window.") % {"code": approved}
    return await _list_page(request, db, identity, notice=notice)


def _file_errors(request: Request, refused: ServiceError) -> list[FieldError]:
    _ = gettext_for(request)
    label = _("Version file")
    if isinstance(refused.detail, list):
        return [
            FieldError(
                "version_file", label, ".".join(str(p) for p in item["loc"][1:]) + ": " + item["msg"], _("Error:")
            )
            if len(item["loc"]) > 1
            else FieldError("version_file", label, item["msg"], _("Error:"))
            for item in refused.detail
        ]
    return [FieldError("version_file", label, str(refused.detail), _("Error:"))]


@router.post("/admin/policies/preview", response_class=HTMLResponse)
async def preview(request: Request, db: SessionDep) -> Response:
    identity = _loader(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    upload = form.get("version_file")
    content = b""
    name = ""
    if isinstance(upload, UploadFile):
        content = await upload.read(MAX_FILE_BYTES + 1)
        name = (upload.filename or "")[:200]
    if not content:
        message = _("Choose a version file (YAML or JSON).")
        errors = [FieldError("version_file", _("Version file"), message, _("Error:"))]
        return await _list_page(request, db, identity, errors=errors, status_code=400)
    if len(content) > MAX_FILE_BYTES:
        errors = [FieldError("version_file", _("Version file"), _("The file is larger than 256 KiB."), _("Error:"))]
        return await _list_page(request, db, identity, errors=errors, status_code=400)
    try:
        version = policy_versions.check_file(content, name)
        compared, changes = await policy_versions.compared_with(db, version)
    except ServiceError as refused:
        return await _list_page(request, db, identity, errors=_file_errors(request, refused), status_code=400)
    return render(
        request,
        "admin_policy_preview.html",
        {
            "title": _("Check the new policy version"),
            "version": version,
            "compared_with": compared,
            "changes": changes,
            "content": content.decode("utf-8"),
            "file_name": name,
        },
        identity=identity,
    )


@router.post("/admin/policies/load", response_class=HTMLResponse)
async def load(request: Request, db: SessionDep) -> Response:
    identity = _loader(request)
    form = await checked_form(request)
    content = str(form.get("content", ""))[:MAX_FILE_BYTES]
    name = str(form.get("file_name", ""))[:200]
    try:
        version = policy_versions.check_file(content, name)
        row = await policy_versions.load_version(
            db, version, loaded_by=identity.username, roles=identity.roles, source=name or None
        )
    except ServiceError as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _list_page(request, db, identity, errors=_file_errors(request, refused), status_code=400)
    await db.commit()
    return RedirectResponse(f"/admin/policies?loaded={row.code}", status_code=303)


@router.post("/admin/policies/{code}/approve", response_class=HTMLResponse)
async def approve(
    request: Request,
    db: SessionDep,
    code: Annotated[str, Path(pattern=VERSION_CODE_PATTERN, max_length=64)],
) -> Response:
    identity = _official(request)
    await checked_form(request)
    try:
        await policy_versions.approve_version(db, code, username=identity.username, roles=identity.roles)
    except ServiceError as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _list_page(request, db, identity, problem=str(refused.detail), status_code=refused.status_code)
    await db.commit()
    return RedirectResponse(f"/admin/policies?approved={code}", status_code=303)
