"""Live agent pages (role "agent"): the handoff inbox and one conversation.

The database says who has a conversation (``backend.livechat.handoffs``); Rasa carries
the messages (``backend.livechat.rasa_api``): the bot is paused while an agent has
the conversation, the agent's messages go out through the citizen's own channel, and
the conversation panel polls the tracker every second (htmx ``every 1s``) so the
citizen's replies show up without reloading. Handing back resumes the bot, which says so.
The request keeps only a keyed hash of the citizen's channel id; ``livechat.senders``
finds the conversation in Rasa's tracker store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from backend.accounts.models import StaffUser
from backend.accounts.roles import Role
from backend.console.guard import ConsoleDb, ConsoleState, allow
from backend.console.web import redirect, render
from backend.deps import AppState
from backend.interaction_models import HandoffRequest, HandoffState
from backend.livechat import handoffs
from backend.livechat.rasa_api import RasaConversations, RasaUnavailable
from backend.livechat.senders import SenderFinder
from backend.livechat.transcript import turns

router = APIRouter()
MAX_MESSAGE = 2000
HANDED_BACK = (
    "Gracias por su paciencia. Ahora le vuelve a atender el asistente virtual: "
    "puede escribirme su consulta cuando quiera."
)
RASA_DOWN = "No pudimos comunicarnos con el asistente en este momento. Intente de nuevo en unos segundos."

AGENTS = allow(Role.AGENT)
Agent = Annotated[StaffUser, Depends(AGENTS)]
HandoffId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def rasa(state: ConsoleState) -> RasaConversations:
    """Rasa's HTTP API with the backend's settings (a dependency tests may override)."""
    return RasaConversations(state.settings)


Rasa = Annotated[RasaConversations, Depends(rasa)]
NOT_FOUND_IN_RASA = (
    "No encontramos esta conversación en el asistente: puede haberse borrado por antigüedad. "
    "Si la persona dejó un contacto en su mensaje, respóndale por ese medio."
)


def sender_finder(request: Request, state: ConsoleState) -> SenderFinder:
    """One finder per app (it remembers what it found), made on first use."""
    finder = getattr(request.app.state, "livechat_senders", None)
    if finder is None:
        finder = SenderFinder(state.settings.effective_tracker_url, state.settings.case_hash_key)
        request.app.state.livechat_senders = finder
    return finder


Senders = Annotated[SenderFinder, Depends(sender_finder)]


def _sender(senders: SenderFinder, row: HandoffRequest) -> str | None:
    return senders.find(row.sender_hash, since=row.created_at)


def _get_or_404(db: Session, handoff_id: int) -> HandoffRequest:
    try:
        return handoffs.get(db, handoff_id)
    except handoffs.HandoffNotFound:
        raise HTTPException(404, detail="No existe esa conversación.") from None


@router.get("/console/handoffs", response_class=HTMLResponse)
def inbox(request: Request, state: ConsoleState, db: ConsoleDb, agent: Agent) -> Response:
    waiting, mine = handoffs.inbox(db, agent=agent.username)
    handed_back = request.query_params.get("done") == "handed_back"
    return render(request, state, "handoffs.html", {"waiting": waiting, "mine": mine, "handed_back": handed_back})


def _conversation(
    request: Request,
    state: AppState,
    db: Session,
    rasa_api: RasaConversations,
    senders: SenderFinder,
    agent: StaffUser,
    row: HandoffRequest,
    *,
    template: str = "handoff.html",
    error: str = "",
    draft: str = "",
    status_code: int = 200,
) -> Response:
    mine = row.state == HandoffState.TAKEN and row.taken_by == agent.username
    shown, rasa_error = [], ""
    sender = _sender(senders, row) if row.state != HandoffState.CLOSED else None
    if sender:
        try:
            shown = turns(
                rasa_api.events(sender),
                taken_at=row.taken_at if mine else None,
                case_code_prefix=state.settings.case_code_prefix,
            )
        except RasaUnavailable:
            rasa_error = RASA_DOWN
    return render(
        request,
        state,
        template,
        {"h": row, "mine": mine, "turns": shown, "error": error, "rasa_error": rasa_error, "draft": draft},
        status_code=status_code,
    )


@router.get("/console/handoffs/{handoff_id}", response_class=HTMLResponse)
def conversation(
    handoff_id: HandoffId,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    rasa_api: Rasa,
    senders: Senders,
    agent: Agent,
) -> Response:
    return _conversation(request, state, db, rasa_api, senders, agent, _get_or_404(db, handoff_id))


@router.get("/console/handoffs/{handoff_id}/turns", response_class=HTMLResponse)
def conversation_turns(
    handoff_id: HandoffId,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    rasa_api: Rasa,
    senders: Senders,
    agent: Agent,
) -> Response:
    """The messages panel alone: what the page polls every second."""
    row = _get_or_404(db, handoff_id)
    return _conversation(request, state, db, rasa_api, senders, agent, row, template="_handoff_turns.html")


@router.post("/console/handoffs/{handoff_id}/take", response_class=HTMLResponse)
def take(
    handoff_id: HandoffId,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    rasa_api: Rasa,
    senders: Senders,
    agent: Agent,
) -> Response:
    """Takes the conversation (first agent wins, in SQL), then pauses the bot for it."""
    sender_id = _sender(senders, _get_or_404(db, handoff_id))
    if sender_id is None:
        row = _get_or_404(db, handoff_id)
        return _conversation(
            request, state, db, rasa_api, senders, agent, row, error=NOT_FOUND_IN_RASA, status_code=409
        )
    try:
        handoffs.take(db, handoff_id=handoff_id, agent=agent.username)
        rasa_api.pause(sender_id)  # already paused in office hours; a left message was not
    except handoffs.AlreadyTaken as lost:
        db.rollback()
        who = f" ({lost.taken_by})" if lost.taken_by else ""
        error = f"Otra persona del equipo{who} ya tomó esta conversación, o se cerró."
        return _conversation(
            request, state, db, rasa_api, senders, agent, _get_or_404(db, handoff_id), error=error, status_code=409
        )
    except RasaUnavailable:
        db.rollback()  # nobody has it: the take is undone with the failed pause
        row = _get_or_404(db, handoff_id)
        return _conversation(request, state, db, rasa_api, senders, agent, row, error=RASA_DOWN, status_code=503)
    db.commit()
    return redirect(f"/console/handoffs/{handoff_id}")


@router.post("/console/handoffs/{handoff_id}/messages", response_class=HTMLResponse)
def send(
    handoff_id: HandoffId,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    rasa_api: Rasa,
    senders: Senders,
    agent: Agent,
    text: Annotated[str, Form(max_length=MAX_MESSAGE * 2)] = "",
) -> Response:
    """Sends the agent's message to the citizen's channel through Rasa."""
    row = _get_or_404(db, handoff_id)
    try:
        handoffs.taken_by(db, handoff_id=handoff_id, agent=agent.username)
    except handoffs.NotYours:
        raise HTTPException(409, detail="Solo quien tomó la conversación puede escribir en ella.") from None
    clean = text.strip()
    htmx = bool(request.headers.get("hx-request"))
    error = ""
    if not clean or len(clean) > MAX_MESSAGE:
        error = "Escriba el mensaje." if not clean else f"El mensaje tiene más de {MAX_MESSAGE} caracteres."
    else:
        try:
            rasa_api.say(_sender(senders, row) or "", row.channel, clean, agent=agent.username)
        except RasaUnavailable:
            error = RASA_DOWN
        else:
            handoffs.record_message(db, row=row, agent=agent.username, text=clean)
            db.commit()
            if not htmx:
                return redirect(f"/console/handoffs/{handoff_id}")
    # htmx swaps only 2xx answers: an error comes back as 200 with the message in the panel.
    status_code = 200 if htmx or not error else (503 if error == RASA_DOWN else 422)
    return _conversation(
        request,
        state,
        db,
        rasa_api,
        senders,
        agent,
        row,
        error=error,
        draft=text if error else "",
        status_code=status_code,
    )


@router.post("/console/handoffs/{handoff_id}/release", response_class=HTMLResponse)
def release(
    handoff_id: HandoffId,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    rasa_api: Rasa,
    senders: Senders,
    agent: Agent,
) -> Response:
    """Gives the conversation back: the bot tells the citizen and resumes; the channel id is forgotten."""
    _get_or_404(db, handoff_id)
    try:
        row = handoffs.taken_by(db, handoff_id=handoff_id, agent=agent.username)
    except handoffs.NotYours:
        raise HTTPException(409, detail="Solo quien tomó la conversación puede devolverla al asistente.") from None
    try:
        rasa_api.resume(_sender(senders, row) or "", row.channel, HANDED_BACK)
    except RasaUnavailable:
        return _conversation(request, state, db, rasa_api, senders, agent, row, error=RASA_DOWN, status_code=503)
    handoffs.release(db, row=row, agent=agent.username)
    db.commit()
    return redirect("/console/handoffs?done=handed_back")
