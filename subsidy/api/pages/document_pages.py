"""The documents of an application on the pages: the filer attaches them, whoever may read the application reads
them (the official from the task page, the applicant from the application's page, the auditor)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from subsidy.api import documents
from subsidy.api.deps import SessionDep
from subsidy.api.errors import Invalid, ServiceError
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.pages.words import N_, PROGRAM
from subsidy.api.read_model import get_visible_application
from subsidy.api.routers.documents import file_response
from subsidy.programs.registry import PROGRAMS, is_terminal

router = APIRouter(include_in_schema=False)

FIELD_MESSAGE = {
    documents.DOCUMENT_TYPE_NOT_ALLOWED: N_("Attach a PDF, JPEG or PNG file: this file is not one, whatever its name"),
    documents.DOCUMENT_TOO_LARGE: N_("The file is larger than 5 MiB: attach a smaller scan"),
    documents.DOCUMENT_EMPTY: N_("The file is empty: choose the file again"),
    documents.UNKNOWN_DOCUMENT_KIND: N_("Choose which document this is"),
}


async def _page(
    request: Request, db: SessionDep, application_id: str, errors: list[FieldError], status: int
) -> Response:
    identity = require_user(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    program = PROGRAMS[application.program]
    attached = await documents.listed(db, application)
    kinds = {kind.code: kind for kind in program.documents}
    may_attach = (
        application.submitted_by == identity.username
        and bool(program.documents)
        and not is_terminal(application.program, application.status)
    )
    return render(
        request,
        "documents.html",
        {
            "title": _("Documents of the application"),
            "app": application,
            "program_title": _(PROGRAM.get(application.program, application.program)),
            "attached": attached,
            "kinds": kinds,
            "may_attach": may_attach,
            "errors": errors,
            "errors_by_field": {error.name: error for error in errors},
            "added": request.query_params.get("added") == "1",
            "back": request.query_params.get("back", ""),
        },
        identity=identity,
        status_code=status,
    )


@router.get("/documents/{application_id}", response_class=HTMLResponse)
async def documents_page(request: Request, application_id: str, db: SessionDep) -> Response:
    return await _page(request, db, application_id, [], 200)


@router.post("/documents/{application_id}", response_class=HTMLResponse)
async def attach_on_the_page(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = require_user(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    kind = form.get("kind")
    upload = form.get("file")
    errors: list[FieldError] = []
    if not isinstance(kind, str) or not kind:
        errors.append(
            FieldError("kind", _("Which document"), _(FIELD_MESSAGE[documents.UNKNOWN_DOCUMENT_KIND]), _("Error:"))
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.append(FieldError("file", _("File"), _("Choose the file to attach"), _("Error:")))
    if not errors:
        assert isinstance(kind, str) and isinstance(upload, UploadFile)
        content = await upload.read(documents.MAX_DOCUMENT_BYTES + 1)
        try:
            await documents.attach(db, identity, application_id, kind, upload.filename, content)
        except Invalid as refused:
            detail = refused.detail[0]  # type: ignore[index]
            field = detail["loc"][-1]
            label = _("File") if field == "file" else _("Which document")
            message = FIELD_MESSAGE.get(detail["type"], detail["msg"])
            errors.append(FieldError(field, label, _(message), _("Error:")))
        except ServiceError:
            raise
    if errors:
        return await _page(request, db, application_id, errors, 422)
    return RedirectResponse(f"/documents/{application_id}?added=1", status_code=303)


@router.get("/documents/{application_id}/{document_id}")
async def download(request: Request, application_id: str, document_id: str, db: SessionDep) -> Response:
    identity = require_user(request)
    return file_response(await documents.read(db, identity, application_id, document_id))
