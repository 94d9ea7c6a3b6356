"""Rendering console pages: one Jinja2 environment (autoescape on), the CSRF token, messages.

Every page is rendered through ``render`` so that the CSRF cookie is set, the
navigation knows the user's roles and security headers are on every response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from backend.accounts.roles import LABELS, Role
from backend.analytics.tables import display as analytics_display
from backend.console import csrf
from backend.deps import AppState

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescape is on for .html
templates.env.globals["ROLE_LABELS"] = {r.value: label for r, label in LABELS.items()}


def _urlencode_page(params: Any, page: int) -> str:
    """The current query string with another page number (for pagination links)."""
    items = [(k, v) for k, v in params.multi_items() if k not in ("page", "ok")]
    return urlencode([*items, ("page", str(page))])


templates.env.filters["urlencode_page"] = _urlencode_page


def _has_any(roles: frozenset[str], *names: str) -> bool:
    return bool(roles.intersection(names))


templates.env.globals["has_any"] = _has_any
templates.env.globals["display"] = analytics_display

# The "?ok=" codes a redirect may carry, and what they say (nothing from the URL is shown).
MESSAGES = {
    "saved": "Cambios guardados como borrador.",
    "submitted": "Enviado a revisión.",
    "returned": "Devuelto al borrador con su comentario.",
    "published": "Publicado. El asistente ya responde con el contenido nuevo.",
    "restored": "Se creó un borrador con la versión elegida. Envíelo a revisión para publicarlo.",
    "discarded": "Se descartó el borrador.",
    "commented": "Comentario agregado.",
    "imported": "Importación aplicada: se crearon borradores para revisión.",
    "rolled_back": "El índice de búsqueda volvió a la versión anterior.",
    "user_created": "Usuario creado.",
    "user_updated": "Usuario actualizado.",
    "password_changed": "Contraseña cambiada. Se cerraron sus otras sesiones.",
    "password_reset": "Contraseña restablecida. Se cerraron todas las sesiones de ese usuario.",
    "logged_out": "Cerró la sesión.",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def cookie_secure(request: Request, state: AppState) -> bool:
    mode = state.settings.console_cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def roles_of(user: Any) -> frozenset[str]:
    return frozenset(user.roles) if user is not None else frozenset()


def render(
    request: Request, state: AppState, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    values = {
        "request": request,
        "user": user,
        "roles": roles_of(user),
        "Role": Role,
        "csrf_token": csrf.token_for(request, state.settings.console_secret),
        "message": MESSAGES.get(request.query_params.get("ok", "")),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    finish(request, state, response)
    return response


def finish(request: Request, state: AppState, response: Any) -> None:
    csrf.set_cookie(request, response, secure=cookie_secure(request, state))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def redirect(url: str, *, ok: str = "") -> RedirectResponse:
    """303 after a POST (the browser then GETs ``url``), with an optional message code."""
    if ok:
        url += ("&" if "?" in url else "?") + f"ok={ok}"
    return RedirectResponse(url, status_code=303)
