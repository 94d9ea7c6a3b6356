"""The unanswered inbox: groups of questions the bot did not answer well, and the intent review.

Editors turn a group into paraphrases of an FAQ, a new FAQ draft (reviewed like any
change), an out-of-scope topic, or dismiss it (``backend.unanswered.handling``). A
group's form carries the row ids the editor saw, so an action never takes in questions
that arrived after the page was drawn. The intent review lists turns the NLU was
unsure of; the corrections download as Rasa NLU training data.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from backend import audit
from backend.accounts.models import StaffUser
from backend.console.guard import EDITORS, ConsoleDb, ConsoleState
from backend.console.routes_content import Pub
from backend.console.routes_content import publisher as publisher_dependency
from backend.console.web import redirect, render
from backend.content import service as content
from backend.deps import AppState
from backend.settings import PROJECT_ROOT
from backend.unanswered import handling, nlu_export, store
from backend.unanswered.cache import GroupCache, InboxView
from backend.unanswered.grouping import Group, model_key
from backend.unanswered.models import Reason

router = APIRouter()
_CREATING = threading.Lock()  # two first requests at once must not make two caches (two worker processes)
Editor = Annotated[StaffUser, Depends(EDITORS)]

PAGE_SIZE = 30
REASON_LABELS = {
    Reason.ABSTAINED: "No supo responder",
    Reason.FALLBACK: "No entendió",
    Reason.NOT_HELPFUL: "«No me sirvió»",
    Reason.LOW_RATING: "Calificación 1-2",
    Reason.LOW_CONFIDENCE: "Intención dudosa",
}
DONE = {
    "paraphrased": "Se agregaron las preguntas como otras formas de preguntar; el borrador espera revisión.",
    "faq_draft": "Se creó la pregunta frecuente en un borrador; pasará por revisión antes de publicarse.",
    "out_of_scope": "Se agregó el tema fuera de alcance; rige desde la próxima publicación.",
    "dismissed": "Grupo descartado.",
    "intent": "Intención guardada.",
    "gone": "Esas preguntas ya fueron atendidas (quizá por otra persona).",
}


def inbox_cache(app: FastAPI) -> GroupCache:
    """The app's one inbox cache (its background regroups read through the app's sessions)."""
    with _CREATING:
        return _cache_of(app)


def _cache_of(app: FastAPI) -> GroupCache:
    cache = getattr(app.state, "unanswered_groups", None)
    if cache is None:
        state = app_state_of(app)
        url = state.settings.effective_database_url
        cache = app.state.unanswered_groups = GroupCache(
            state.sessions,
            wait=state.settings.unanswered_page_wait_seconds,
            database_url="" if url in ("sqlite://", "sqlite:///:memory:") else url,  # a worker process reads it
        )
    return cache


def app_state_of(app: FastAPI) -> AppState:
    return app.state.ventanilla  # type: ignore[no-any-return]


def warm_inbox(app: FastAPI) -> None:
    """Starts the first grouping at start-up, on the cache's thread (the first view finds it ready)."""
    pub = _publisher_of(app)
    inbox_cache(app).refresh(model_key(pub.settings.embedder, pub.settings.model), pub.embedder)


def close_inbox(app: FastAPI) -> None:
    """Stops the inbox cache's worker process (the app's shutdown)."""
    cache = getattr(app.state, "unanswered_groups", None)
    if cache is not None:
        cache.close()


def _publisher_of(app: FastAPI) -> content.Publisher:
    """The publisher the routes get (tests give their own through a dependency override)."""
    return app.dependency_overrides.get(publisher_dependency, publisher_dependency)()  # type: ignore[no-any-return]


def inbox_view(request: Request, db: ConsoleDb, pub: content.Publisher) -> InboxView:
    """The inbox's groups (last complete grouping; a full regroup never runs in the request)."""
    settings = pub.settings
    return inbox_cache(request.app).view(db, model_key(settings.embedder, settings.model), pub.embedder)


def inbox_groups(request: Request, db: ConsoleDb, pub: content.Publisher) -> list[Group]:
    """The inbox's groups; the analytics dashboard shows the biggest of them too."""
    return inbox_view(request, db, pub).groups


def _regroup(request: Request, pub: content.Publisher) -> None:
    """Right after a group is handled: the next complete grouping starts now, off the request."""
    settings = pub.settings
    inbox_cache(request.app).refresh(model_key(settings.embedder, settings.model), pub.embedder)


def _titles(db: ConsoleDb) -> dict[str, str]:
    return {p.procedure_id: p.title for p in content.list_procedures(db)}


def _ids(raw: str) -> list[int]:
    try:
        ids = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise HTTPException(422, detail="La lista de preguntas del grupo no es válida.") from None
    if not ids or len(ids) > 20_000:
        raise HTTPException(422, detail="El grupo no tiene preguntas.")
    return ids


def _trend(group: Group) -> str:
    if group.last_week > group.week_before:
        return "En aumento"
    if group.last_week < group.week_before:
        return "En baja"
    return "Estable"


@router.get("/console/unanswered", response_class=HTMLResponse)
def inbox(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    publisher: Pub,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Groups biggest first, a page at a time (the page stays fast with thousands of questions)."""
    view = inbox_view(request, db, publisher)
    groups = view.groups
    pages = max(1, -(-len(groups) // PAGE_SIZE))
    shown = groups[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    context = {
        "groups": shown,
        "total_groups": len(groups),
        "total_questions": sum(g.count for g in groups),
        "page": page,
        "pages": pages,
        "titles": _titles(db) if shown else {},
        "reason_labels": REASON_LABELS,
        "trend": _trend,
        "done": DONE.get(request.query_params.get("done", "")),
        "updating": view.updating,
        "ready": view.ready,
    }
    return render(request, state, "unanswered.html", context)


def _find(groups: list[Group], key: int) -> Group:
    found = next((g for g in groups if key in g.ids), None)
    if found is None:
        raise HTTPException(404, detail="Ese grupo ya no está en la bandeja (alguien lo atendió o cambió).")
    return found


def _group_page(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    group: Group,
    procedure_id: str,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    titles = _titles(db)
    chosen = procedure_id or (group.closest.procedure_id if group.closest else "")
    faqs: list[dict[str, Any]] = []
    if chosen in titles:
        faqs = list(content.get_content(db, procedure_id=chosen, which="working").data.get("faqs", []))
    else:
        chosen = ""
    context = {
        "group": group,
        "ids": ",".join(str(i) for i in group.ids),
        "titles": titles,
        "chosen": chosen,
        "faqs": faqs,
        "reason_labels": REASON_LABELS,
        "trend": _trend,
        "questions": store.questions_of(db, group.ids)[:50],
        "error": error,
        "form": form or {},
    }
    return render(request, state, "unanswered_group.html", context, status_code=status_code)


@router.get("/console/unanswered/group", response_class=HTMLResponse)
def group_page(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    publisher: Pub,
    key: Annotated[int, Query()] = 0,
    procedure: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    group = _find(inbox_groups(request, db, publisher), key)
    return _group_page(request, state, db, group, procedure)


def _refused(
    request: Request, state: ConsoleState, db: ConsoleDb, publisher: Pub, ids: list[int], exc: Exception, **form: str
) -> Response:
    db.rollback()
    groups = inbox_groups(request, db, publisher)
    group = next((g for g in groups if set(ids) & set(g.ids)), None)
    if group is None:  # nothing of it is open any more
        return redirect("/console/unanswered?done=gone")
    message = " ".join(m for _f, m in exc.problems) if isinstance(exc, content.ValidationFailed) else str(exc)
    return _group_page(
        request, state, db, group, form.get("procedure_id", ""), error=message, form=form, status_code=422
    )


_DOMAIN_ERRORS = (
    handling.NothingOpen,
    content.ValidationFailed,
    content.InvalidTransition,
    content.ConflictError,
    content.NotFound,
)


@router.post("/console/unanswered/paraphrase", response_class=HTMLResponse)
def paraphrase(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    publisher: Pub,
    ids: Annotated[str, Form(max_length=200_000)] = "",
    procedure_id: Annotated[str, Form(max_length=80)] = "",
    faq: Annotated[int, Form(ge=0, le=500)] = 0,
    submit: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    rows = _ids(ids)
    try:
        handling.add_paraphrases(
            db, ids=rows, procedure_id=procedure_id, faq_number=faq, actor=editor.username, submit=bool(submit)
        )
    except _DOMAIN_ERRORS as exc:
        return _refused(request, state, db, publisher, rows, exc, procedure_id=procedure_id)
    _regroup(request, publisher)
    return redirect("/console/unanswered?done=paraphrased")


@router.post("/console/unanswered/new-faq", response_class=HTMLResponse)
def new_faq(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    publisher: Pub,
    ids: Annotated[str, Form(max_length=200_000)] = "",
    procedure_id: Annotated[str, Form(max_length=80)] = "",
    question: Annotated[str, Form(max_length=500)] = "",
    answer: Annotated[str, Form(max_length=5000)] = "",
    submit: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    rows = _ids(ids)
    try:
        handling.new_faq_draft(
            db,
            ids=rows,
            procedure_id=procedure_id,
            question=question,
            answer=answer,
            actor=editor.username,
            submit=bool(submit),
        )
    except _DOMAIN_ERRORS as exc:
        return _refused(
            request, state, db, publisher, rows, exc, procedure_id=procedure_id, question=question, answer=answer
        )
    _regroup(request, publisher)
    return redirect("/console/unanswered?done=faq_draft")


@router.post("/console/unanswered/out-of-scope", response_class=HTMLResponse)
def out_of_scope(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    publisher: Pub,
    ids: Annotated[str, Form(max_length=200_000)] = "",
    topic: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    rows = _ids(ids)
    try:
        handling.mark_out_of_scope(
            db,
            ids=rows,
            topic=topic.strip(),
            out_of_scope_file=publisher.settings.out_of_scope_file,
            actor=editor.username,
        )
    except _DOMAIN_ERRORS as exc:
        return _refused(request, state, db, publisher, rows, exc, topic=topic)
    _regroup(request, publisher)
    return redirect("/console/unanswered?done=out_of_scope")


@router.post("/console/unanswered/dismiss", response_class=HTMLResponse)
def dismiss(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    publisher: Pub,
    ids: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    rows = _ids(ids)
    try:
        handling.dismiss(db, ids=rows, actor=editor.username)
    except handling.NothingOpen as exc:
        return _refused(request, state, db, publisher, rows, exc)
    _regroup(request, publisher)
    return redirect("/console/unanswered?done=dismissed")


# --- intent review ---------------------------------------------------------------------------


def _intents() -> list[str]:
    return nlu_export.known_intents(PROJECT_ROOT / "bot" / "domain")


@router.get("/console/intents", response_class=HTMLResponse)
def intents_page(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    reviewed: Annotated[bool, Query()] = False,
) -> Response:
    threshold = state.settings.unanswered_low_confidence  # the action server's and the broker tap's
    context = {
        "rows": store.low_confidence(db, threshold=threshold, reviewed=reviewed),
        "intents": _intents(),
        "reviewed": reviewed,
        "reason_labels": REASON_LABELS,
        "threshold": threshold,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, state, "intents.html", context)


@router.post("/console/intents/review", response_class=HTMLResponse)
def review_intent(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    editor: Editor,
    row: Annotated[int, Form()] = 0,
    intent: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    if intent not in _intents():
        raise HTTPException(422, detail="Elija una intención de la lista.")
    reviewed = store.review_intent(db, row_id=row, intent=intent, actor=editor.username)
    if reviewed is None:
        raise HTTPException(404, detail="Esa pregunta ya no existe.")
    audit.record(
        db,
        actor=editor.username,
        action="unanswered.intent_reviewed",
        row=row,
        predicted=reviewed.intent,
        chosen=intent,
    )
    db.commit()
    return redirect("/console/intents?done=intent")


@router.get("/console/intents/export.yml")
def export_intents(db: ConsoleDb, editor: Editor) -> Response:
    """The corrections as a Rasa NLU file (download)."""
    body = nlu_export.to_rasa_yaml(store.reviewed_examples(db))
    return Response(
        body,
        media_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="nlu_correcciones.yml"', "Cache-Control": "no-store"},
    )
