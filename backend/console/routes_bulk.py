"""Bulk pages: import a CSV/XLSX sheet (preview, then apply), export, and the index rollback.

The import preview carries the uploaded file back in the confirm form (base64, size-capped)
together with the plan's token; applying re-plans from those bytes and refuses a changed
file, so what is applied is exactly what was previewed.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from backend import audit
from backend.accounts.models import StaffUser
from backend.console.guard import EDITORS, EDITORS_OR_REVIEWERS, REVIEWERS, ConsoleDb, ConsoleState
from backend.console.routes_content import Pub
from backend.console.web import finish, redirect, render
from backend.content import service as content

router = APIRouter()

MAX_SHEET_BYTES = 2 * 1024 * 1024
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Editor = Annotated[StaffUser, Depends(EDITORS)]
ContentStaff = Annotated[StaffUser, Depends(EDITORS_OR_REVIEWERS)]
Reviewer = Annotated[StaffUser, Depends(REVIEWERS)]


def _page(
    request: Request,
    state: ConsoleState,
    *,
    plan: object = None,
    payload: bytes = b"",
    error: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "plan": plan,
        "payload_b64": base64.b64encode(payload).decode() if payload else "",
        "error": error,
        "max_mb": MAX_SHEET_BYTES // (1024 * 1024),
    }
    return render(request, state, "import.html", context, status_code=status_code)


@router.get("/console/import", response_class=HTMLResponse)
def import_page(request: Request, state: ConsoleState, user: ContentStaff) -> Response:
    return _page(request, state)


@router.post("/console/import/preview", response_class=HTMLResponse)
async def import_preview(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    sheet: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if sheet is None or not sheet.filename:
        return _page(request, state, error="Elija un archivo CSV o XLSX.", status_code=422)
    payload = await sheet.read(MAX_SHEET_BYTES + 1)
    if len(payload) > MAX_SHEET_BYTES:
        return _page(request, state, error=f"El archivo supera {MAX_SHEET_BYTES // (1024 * 1024)} MB.", status_code=422)
    try:
        plan = content.plan_import(db, file_name=sheet.filename, payload=payload)
    except content.ContentError as exc:
        return _page(request, state, error=str(exc), status_code=422)
    return _page(request, state, plan=plan, payload=payload, status_code=200 if not plan.problems else 422)


@router.post("/console/import/apply", response_class=HTMLResponse)
def import_apply(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    file_name: Annotated[str, Form(max_length=300)],
    token: Annotated[str, Form(max_length=200)],
    payload_b64: Annotated[str, Form(max_length=MAX_SHEET_BYTES * 2)],
) -> Response:
    try:
        payload = base64.b64decode(payload_b64, validate=True)
    except (binascii.Error, ValueError):
        return _page(
            request, state, error="El archivo de la vista previa llegó dañado; vuelva a subirlo.", status_code=422
        )
    try:
        content.apply_import(db, file_name=file_name, payload=payload, token=token, actor=editor.username)
    except content.ValidationFailed as exc:
        plan = content.plan_import(db, file_name=file_name, payload=payload)
        return _page(request, state, plan=plan, payload=payload, error=str(exc), status_code=422)
    except content.ContentError as exc:
        return _page(request, state, error=str(exc), status_code=409)
    return redirect("/console/procedures", ok="imported")


@router.get("/console/export.{fmt}")
def export(
    request: Request, state: ConsoleState, db: ConsoleDb, user: ContentStaff, fmt: Literal["csv", "xlsx"]
) -> Response:
    payload = content.export_published(db, fmt=fmt)
    response = Response(
        payload,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="ventanilla-faqs.{fmt}"'},
    )
    finish(request, state, response)
    return response


@router.post("/console/index/rollback", response_class=HTMLResponse)
def rollback(request: Request, state: ConsoleState, db: ConsoleDb, reviewer: Reviewer, pub: Pub) -> Response:
    """Serves the previous index version again (the database is unchanged); audited here."""
    try:
        served = content.rollback_index(publisher=pub)
    except (content.ContentError, ValueError) as exc:
        raise HTTPException(409, detail=str(exc)) from None
    audit.record(db, actor=reviewer.username, action="content.index_rolled_back", after={"index_version": served})
    db.commit()
    return redirect("/console/import", ok="rolled_back")
