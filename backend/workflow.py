"""The status workflow of a case and what each status means to a citizen.

Kept apart from the database code so that the actions, the staff API and the
notifications all explain a status with the same words.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    RECIBIDO = "recibido"
    EN_REVISION = "en_revision"
    REQUIERE_DOCUMENTACION = "requiere_documentacion"
    APROBADO = "aprobado"
    RECHAZADO = "rechazado"
    CERRADO = "cerrado"


ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECIBIDO: frozenset({Status.EN_REVISION}),
    Status.EN_REVISION: frozenset({Status.REQUIERE_DOCUMENTACION, Status.APROBADO, Status.RECHAZADO}),
    Status.REQUIERE_DOCUMENTACION: frozenset({Status.EN_REVISION}),
    Status.APROBADO: frozenset({Status.CERRADO}),
    Status.RECHAZADO: frozenset({Status.CERRADO}),
    Status.CERRADO: frozenset(),
}

# How a status reads in a sentence ("su trámite está «en revisión»").
CITIZEN_LABEL: dict[Status, str] = {
    Status.RECIBIDO: "recibido",
    Status.EN_REVISION: "en revisión",
    Status.REQUIERE_DOCUMENTACION: "requiere documentación",
    Status.APROBADO: "aprobado",
    Status.RECHAZADO: "rechazado",
    Status.CERRADO: "cerrado",
}

TERMINAL_STATUSES = frozenset({Status.CERRADO})


def citizen_label(status: str) -> str:
    """How ``status`` reads for a citizen; the raw value for a status an external case service added."""
    try:
        return CITIZEN_LABEL[Status(status)]
    except ValueError:
        return status


CITIZEN_EXPLANATION: dict[Status, str] = {
    Status.RECIBIDO: "Recibimos su solicitud. Pronto una persona del equipo la va a revisar.",
    Status.EN_REVISION: "Su solicitud está en revisión por el equipo de la oficina.",
    Status.REQUIERE_DOCUMENTACION: (
        "Necesitamos que presente documentación adicional. Revise la nota de la oficina o acérquese con su documento."
    ),
    Status.APROBADO: "¡Su trámite fue aprobado! Le vamos a avisar cómo seguir.",
    Status.RECHAZADO: (
        "Su solicitud no pudo aprobarse. En la nota de la oficina está el motivo y cómo volver a presentarla."
    ),
    Status.CERRADO: "Su trámite está cerrado.",
}

# Working days a case usually stays in a status before it moves on; None when unknown.
EXPECTED_DAYS: dict[Status, int | None] = {
    Status.RECIBIDO: 2,
    Status.EN_REVISION: 10,
    Status.REQUIERE_DOCUMENTACION: None,
    Status.APROBADO: 5,
    Status.RECHAZADO: None,
    Status.CERRADO: None,
}


class InvalidTransition(ValueError):
    """A status change the workflow does not allow."""


def check_transition(current: Status, new: Status) -> None:
    """Raises InvalidTransition unless ``current -> new`` is allowed."""
    if new not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(f"No se puede pasar de '{current}' a '{new}'.")


def add_working_days(start: date, days: int) -> date:
    """``start`` plus ``days`` working days (Monday to Friday; holidays are not known here)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def expected_date(status: Status, since: datetime) -> date | None:
    """The date by which a case in ``status`` since ``since`` usually moves on, if known."""
    days = EXPECTED_DAYS[status]
    return None if days is None else add_working_days(since.date(), days)


class UnknownStatus(InvalidTransition):
    """A status name that is not part of the workflow."""


def parse_status(value: str) -> Status:
    """The Status named ``value``; UnknownStatus (a ValueError) if there is none."""
    try:
        return Status(value)
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise UnknownStatus(f"Estado desconocido '{value}'. Los estados válidos son: {valid}.") from None
