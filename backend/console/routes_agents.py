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

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from backend.accounts.models import StaffUser
from backend.accounts.roles import Role
from backend.console.guard import ConsoleDb, ConsoleState, allow
from backend.console.web import redirect, render
from backend.deps import AppState
from backend.interaction_models import HandoffRequest, HandoffState
from backend.livechat import handoffs, upkeep
from backend.livechat.rasa_api import RasaConversations, RasaUnavailable
from backend.livechat.senders import SenderFinder
from backend.livechat.transcript import last_user_message, turns

router = APIRouter()
MAX_MESSAGE = 2000
HANDED_BACK = (
    "Gracias por su paciencia. Ahora le vuelve a atender el asistente virtual: "
    "puede escribirme su consulta cuando quiera."
)
RASA_DOWN = "No pudimos comunicarnos con el asistente en este momento. Intente de nuevo en unos segundos."

RETURNED_TO_BOT = (
    "El asistente ya retomó esta conversación: estuvo sin mensajes más tiempo del que el asistente "
    "la espera en pausa. Si la persona vuelve a pedir atención, aparecerá otra vez en la bandeja."
)
# WhatsApp's Cloud API delivers free text only within 24 hours of the citizen's last message.
WHATSAPP_HOURS = 24
WHATSAPP_WINDOW = (
    "No se envió: WhatsApp solo permite mensajes libres hasta 24 horas después del último mensaje "
    "de la persona, y ese plazo ya pasó. Cuando la persona vuelva a escribir podrá responderle; "
    "si dejó otro contacto en su mensaje, use ese medio."
)

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


def senders_of(app: FastAPI) -> SenderFinder:
    """One finder per app (it remembers what it found), made on first use (pages and upkeep share it)."""
    finder = getattr(app.state, "livechat_senders", None)
    if finder is None:
        settings = app.state.ventanilla.settings
        finder = SenderFinder(settings.effective_tracker_url, settings.case_hash_key)
        app.state.livechat_senders = finder
    return finder


def sender_finder(request: Request) -> SenderFinder:
    return senders_of(request.app)


async def upkeep_loop(app: FastAPI, stop: asyncio.Event) -> None:
    """Expires untaken requests and reconciles auto-resumed ones every ``handoff_upkeep_seconds``."""
    state: AppState = app.state.ventanilla
    settings = state.settings
    rules = upkeep.rules_of(settings.handoff_expire_minutes, settings.rasa_session_minutes)
    while not stop.is_set():
        rasa_api = app.dependency_overrides.get(rasa, rasa)(state)
        await asyncio.to_thread(upkeep.guarded_round, state.sessions, rasa_api, senders_of(app), rules)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.handoff_upkeep_seconds)


Senders = Annotated[SenderFinder, Depends(sender_finder)]


def _sender(senders: SenderFinder, row: HandoffRequest) -> str | None:
    return senders.find(row.sender_hash, since=row.created_at)


def _outside_whatsapp_window(rasa_api: RasaConversations, sender: str) -> str:
    """WHATSAPP_WINDOW when the citizen's last message is older than 24 h (or there is none), else ""."""
    last = last_user_message(rasa_api.events(sender)) if sender else None
    if last is None or datetime.now(timezone.utc) - last > timedelta(hours=WHATSAPP_HOURS):
        return WHATSAPP_WINDOW
    return ""


def _get_or_404(db: Session, handoff_id: int) -> HandoffRequest:
    try:
        return handoffs.get(db, handoff_id)
    except handoffs.HandoffNotFound:
        raise HTTPException(404, detail="No existe esa conversación.") from None


@router.get("/console/handoffs", response_class=HTMLResponse)
def inbox(request: Request, state: ConsoleState, db: ConsoleDb, agent: Agent) -> Response:
    waiting, mine = handoffs.inbox(db, agent=agent.username)
    handed_back = request.query_params.get("done") == "handed_back"
    live = sum(1 for w in waiting if w.state == HandoffState.WAITING_AGENT)
    context = {"waiting": waiting, "mine": mine, "handed_back": handed_back, "waiting_count": live}
    return render(request, state, "handoffs.html", context)


@router.get("/console/handoffs/waiting", response_class=HTMLResponse)
def waiting_count(request: Request, state: ConsoleState, db: ConsoleDb, agent: Agent) -> Response:
    """How many citizens wait in the chat now: the fragment the inbox polls (title count, announcement)."""
    context = {"waiting_count": handoffs.waiting_live(db)}
    return render(request, state, "_handoffs_waiting_fragment.html", context)


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
    sender = _sender(senders, row) if row.state not in (HandoffState.CLOSED, HandoffState.RETURNED) else None
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
    if row.state == HandoffState.RETURNED:
        raise HTTPException(409, detail=RETURNED_TO_BOT)
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
        sender = _sender(senders, row) or ""
        try:
            error = _outside_whatsapp_window(rasa_api, sender) if row.channel == "whatsapp" else ""
            if not error:
                rasa_api.say(sender, row.channel, clean, agent=agent.username)
        except RasaUnavailable:
            error = RASA_DOWN
        if not error:
            handoffs.record_message(db, row=row, agent=agent.username, text=clean)
            db.commit()
            if not htmx:
                return redirect(f"/console/handoffs/{handoff_id}")
    # htmx swaps only 2xx answers: an error comes back as 200 with the message in the panel.
    status_code = 200 if htmx or not error else (503 if error == RASA_DOWN else 422)
    if error == WHATSAPP_WINDOW and not htmx:
        status_code = 409
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
    if _get_or_404(db, handoff_id).state == HandoffState.RETURNED:
        raise HTTPException(409, detail=RETURNED_TO_BOT)
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
