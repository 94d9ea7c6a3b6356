"""Content pages: procedure list, edit, review workflow, history/diff/restore, preview.

Pages call ``backend.content.service`` only. Domain errors become a page with the
message next to the field (validation), both versions side by side (conflict), or a
notice (workflow); nothing the editor typed is lost.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from backend.accounts.models import StaffUser
from backend.console import procedure_form as pf
from backend.console.guard import (
    CONTENT_READERS,
    EDITORS,
    EDITORS_OR_REVIEWERS,
    REVIEWERS,
    ConsoleDb,
    ConsoleState,
)
from backend.console.web import redirect, render
from backend.content import service as content

router = APIRouter()

Reader = Annotated[StaffUser, Depends(CONTENT_READERS)]
Editor = Annotated[StaffUser, Depends(EDITORS)]
Reviewer = Annotated[StaffUser, Depends(REVIEWERS)]
ContentStaff = Annotated[StaffUser, Depends(EDITORS_OR_REVIEWERS)]

STATUS_LABELS = {
    "draft": "Borrador",
    "in_review": "En revisión",
    "published": "Publicada",
    "superseded": "Reemplazada",
    None: "Publicada, sin cambios abiertos",
}
STATUS_FILTERS = {
    "": "Todos",
    "draft": "Con borrador",
    "in_review": "En revisión",
    "published": "Publicados sin cambios",
    "unpublished": "Nunca publicados",
}


def publisher() -> content.Publisher:
    """The process-wide publisher (a dependency so tests can give their own)."""
    return content.get_publisher()


Pub = Annotated[content.Publisher, Depends(publisher)]


def _found(call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except content.NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None


@router.get("/console/procedures", response_class=HTMLResponse)
def procedures(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    user: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[Literal["", "draft", "in_review", "published", "unpublished"], Query()] = "",
    office: Annotated[str, Query(max_length=200)] = "",
    stale: Annotated[Literal["", "yes", "no"], Query()] = "",
) -> Response:
    """All procedures with filters; htmx swaps only the results table (hx-select)."""
    items = content.list_procedures(
        db, text=q, status=status, office=office, stale={"yes": True, "no": False}.get(stale)
    )
    context = {
        "items": items,
        "offices": content.list_offices(db),
        "filters": {"q": q, "status": status, "office": office, "stale": stale},
        "status_filters": STATUS_FILTERS,
        "status_labels": STATUS_LABELS,
    }
    return render(request, state, "procedures.html", context)


def _procedure_page(
    request: Request, state: ConsoleState, db: ConsoleDb, procedure_id: str, *, error: str = "", status_code: int = 200
) -> Response:
    working = _found(content.get_content, session=db, procedure_id=procedure_id, which="working")
    try:
        published = content.get_content(db, procedure_id=procedure_id, which="published")
    except content.NotFound:
        published = None
    context = {
        "p": working,
        "published": published,
        "open_change": working.version.status in ("draft", "in_review"),
        "comments": content.list_comments(db, procedure_id=procedure_id),
        "status_labels": STATUS_LABELS,
        "error": error,
        "view": pf.to_view(procedure_id, working.data),
        "text_fields": pf.TEXT_FIELDS,
        "list_fields": pf.LINE_LIST_FIELDS,
    }
    return render(request, state, "procedure.html", context, status_code=status_code)


@router.get("/console/procedures/new", response_class=HTMLResponse)
def new_procedure_page(request: Request, state: ConsoleState, editor: Editor) -> Response:
    return _edit_page(request, state, procedure_id="", data={}, base_revision=None)


@router.post("/console/procedures/new", response_class=HTMLResponse)
async def create_procedure(request: Request, state: ConsoleState, db: ConsoleDb, editor: Editor) -> Response:
    form = await request.form()
    procedure_id = str(form.get("id", "")).strip().lower()
    data = pf.from_form(procedure_id, form.multi_items())
    return _save(request, state, db, editor, procedure_id, data, base_revision=None)


@router.get("/console/procedures/{procedure_id}", response_class=HTMLResponse)
def procedure(request: Request, state: ConsoleState, db: ConsoleDb, user: Reader, procedure_id: str) -> Response:
    return _procedure_page(request, state, db, procedure_id)


def _edit_page(
    request: Request,
    state: ConsoleState,
    *,
    procedure_id: str,
    data: dict[str, Any],
    base_revision: int | None,
    errors: dict[str, str] | None = None,
    conflict: Any = None,
    status_code: int = 200,
) -> Response:
    view = pf.to_view(procedure_id, data)
    context = {
        "view": view,
        "base_revision": base_revision,
        "errors": errors or {},
        "conflict": conflict,
        "text_fields": pf.TEXT_FIELDS,
        "list_fields": pf.LINE_LIST_FIELDS,
        "groups": pf.GROUPS,
        "field_id": pf.field_id,
        "is_new": base_revision is None,
    }
    return render(request, state, "edit.html", context, status_code=status_code)


@router.get("/console/procedures/{procedure_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, state: ConsoleState, db: ConsoleDb, editor: Editor, procedure_id: str) -> Response:
    working = _found(content.get_content, session=db, procedure_id=procedure_id, which="working")
    return _edit_page(request, state, procedure_id=procedure_id, data=working.data, base_revision=working.revision)


def _save(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: StaffUser,
    procedure_id: str,
    data: dict[str, Any],
    *,
    base_revision: int | None,
) -> Response:
    try:
        content.save_draft(db, procedure_id=procedure_id, data=data, base_revision=base_revision, actor=editor.username)
    except content.ValidationFailed as exc:
        view = pf.to_view(procedure_id, data)
        errors = pf.errors_by_field(exc.problems, pf.known_fields(view))
        return _edit_page(
            request,
            state,
            procedure_id=procedure_id,
            data=data,
            base_revision=base_revision,
            errors=errors,
            status_code=422,
        )
    except content.ConflictError as exc:
        # Nothing is lost: the form keeps what this editor typed; the other person's
        # version is shown beside it. Saving again (now on the current revision) overwrites it.
        current = pf.to_view(procedure_id, exc.current or {})
        mine = pf.to_view(procedure_id, data)
        differing = [
            (label, current.values.get(path, ""), mine.values.get(path, ""))
            for path, label in [*((p, lab) for p, lab, _multi in pf.TEXT_FIELDS), *pf.LINE_LIST_FIELDS]
            if current.values.get(path, "") != mine.values.get(path, "")
        ]
        if current.groups != mine.groups:
            differing.append(("Oficinas o preguntas frecuentes", "(distintas)", "(distintas)"))
        conflict = {"message": str(exc), "differing": differing}
        return _edit_page(
            request,
            state,
            procedure_id=procedure_id,
            data=data,
            base_revision=exc.current_revision if exc.current else base_revision,
            conflict=conflict,
            status_code=409,
        )
    except (content.InvalidTransition, content.NotFound) as exc:
        return _edit_page(
            request,
            state,
            procedure_id=procedure_id,
            data=data,
            base_revision=base_revision,
            errors={"(general)": str(exc)},
            status_code=409,
        )
    return redirect(f"/console/procedures/{procedure_id}", ok="saved")


@router.post("/console/procedures/{procedure_id}/edit", response_class=HTMLResponse)
async def save(request: Request, state: ConsoleState, db: ConsoleDb, editor: Editor, procedure_id: str) -> Response:
    form = await request.form()
    try:
        base_revision = int(str(form.get("base_revision", "")))
    except ValueError:
        raise HTTPException(422, detail="Falta la revisión del formulario; vuelva a abrir la edición.") from None
    data = pf.from_form(procedure_id, form.multi_items())
    return _save(request, state, db, editor, procedure_id, data, base_revision=base_revision)


def _step(
    request: Request, state: ConsoleState, db: ConsoleDb, procedure_id: str, ok: str, call: Any, **kwargs: Any
) -> Response:
    """Runs one workflow step; a refusal shows the procedure page with the reason."""
    try:
        call(db, procedure_id=procedure_id, **kwargs)
    except content.NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except content.ContentError as exc:
        message = str(exc)
        if isinstance(exc, content.ValidationFailed):
            message += ": " + "; ".join(f"{path}: {text}" for path, text in exc.problems)
        return _procedure_page(request, state, db, procedure_id, error=message, status_code=409)
    return redirect(f"/console/procedures/{procedure_id}", ok=ok)


Revision = Annotated[int, Form(ge=0)]
Comment = Annotated[str, Form(max_length=4000)]


@router.post("/console/procedures/{procedure_id}/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    procedure_id: str,
    base_revision: Revision,
    comment: Comment = "",
) -> Response:
    return _step(
        request,
        state,
        db,
        procedure_id,
        "submitted",
        content.submit_for_review,
        base_revision=base_revision,
        actor=editor.username,
        comment=comment.strip(),
    )


@router.post("/console/procedures/{procedure_id}/return", response_class=HTMLResponse)
def return_to_draft(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    reviewer: Reviewer,
    procedure_id: str,
    base_revision: Revision,
    comment: Comment = "",
) -> Response:
    return _step(
        request,
        state,
        db,
        procedure_id,
        "returned",
        content.return_to_draft,
        base_revision=base_revision,
        actor=reviewer.username,
        comment=comment.strip(),
    )


@router.post("/console/procedures/{procedure_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    reviewer: Reviewer,
    pub: Pub,
    procedure_id: str,
    base_revision: Revision,
    comment: Comment = "",
) -> Response:
    return _step(
        request,
        state,
        db,
        procedure_id,
        "published",
        content.publish,
        base_revision=base_revision,
        actor=reviewer.username,
        publisher=pub,
        comment=comment.strip(),
    )


@router.post("/console/procedures/{procedure_id}/discard", response_class=HTMLResponse)
def discard(
    request: Request, state: ConsoleState, db: ConsoleDb, editor: Editor, procedure_id: str, base_revision: Revision
) -> Response:
    return _step(
        request,
        state,
        db,
        procedure_id,
        "discarded",
        content.discard_draft,
        base_revision=base_revision,
        actor=editor.username,
    )


@router.post("/console/procedures/{procedure_id}/comments", response_class=HTMLResponse)
def comment(
    request: Request, state: ConsoleState, db: ConsoleDb, user: ContentStaff, procedure_id: str, body: Comment = ""
) -> Response:
    if not body.strip():
        return _procedure_page(request, state, db, procedure_id, error="El comentario está vacío.", status_code=422)
    return _step(
        request, state, db, procedure_id, "commented", content.add_comment, actor=user.username, body=body.strip()
    )


@router.post("/console/procedures/{procedure_id}/restore", response_class=HTMLResponse)
def restore(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    procedure_id: str,
    number: Annotated[int, Form(ge=1)],
    base_revision: Revision,
) -> Response:
    return _step(
        request,
        state,
        db,
        procedure_id,
        "restored",
        content.restore,
        number=number,
        base_revision=base_revision,
        actor=editor.username,
    )


@router.get("/console/procedures/{procedure_id}/history", response_class=HTMLResponse)
def history(request: Request, state: ConsoleState, db: ConsoleDb, user: Reader, procedure_id: str) -> Response:
    versions = _found(content.history, session=db, procedure_id=procedure_id)
    working = _found(content.get_content, session=db, procedure_id=procedure_id, which="working")
    context = {"versions": versions, "p": working, "status_labels": STATUS_LABELS}
    return render(request, state, "history.html", context)


@router.get("/console/procedures/{procedure_id}/versions/{number}", response_class=HTMLResponse)
def version(
    request: Request, state: ConsoleState, db: ConsoleDb, user: Reader, procedure_id: str, number: int
) -> Response:
    shown = _found(content.get_version, session=db, procedure_id=procedure_id, number=number)
    context = {
        "p": shown,
        "view": pf.to_view(procedure_id, shown.data),
        "status_labels": STATUS_LABELS,
        "text_fields": pf.TEXT_FIELDS,
        "list_fields": pf.LINE_LIST_FIELDS,
    }
    return render(request, state, "version.html", context)


@router.get("/console/procedures/{procedure_id}/diff", response_class=HTMLResponse)
def diff(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    user: Reader,
    procedure_id: str,
    left: Annotated[int, Query(ge=1)],
    right: Annotated[int, Query(ge=1)],
) -> Response:
    rows = _found(content.diff_versions, session=db, procedure_id=procedure_id, left=left, right=right)
    versions = _found(content.history, session=db, procedure_id=procedure_id)
    context = {"rows": rows, "left": left, "right": right, "procedure_id": procedure_id, "versions": versions}
    return render(request, state, "diff.html", context)


@router.post("/console/procedures/{procedure_id}/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    user: ContentStaff,
    pub: Pub,
    procedure_id: str,
    question: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """What the bot would answer with the working copy (an htmx fragment, or a full page without JS)."""
    result, error = None, ""
    if not question.strip():
        error = "Escriba una pregunta como la haría un ciudadano."
    else:
        try:
            result = _found(
                content.preview, session=db, procedure_id=procedure_id, question=question.strip(), publisher=pub
            )
        except content.ValidationFailed as exc:
            error = str(exc)
    context = {"result": result, "error": error, "question": question, "procedure_id": procedure_id}
    if request.headers.get("hx-request"):  # htmx swaps only 2xx answers: the error is in the fragment
        return render(request, state, "_preview.html", context)
    return render(request, state, "preview_page.html", context, status_code=422 if error else 200)
