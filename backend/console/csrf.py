"""CSRF protection for the console: signed double-submit tokens (itsdangerous).

A random nonce lives in an HttpOnly, SameSite=Strict cookie; every form carries the nonce
signed with ``VENTANILLA_CONSOLE_SECRET`` (htmx sends it as the ``X-CSRF-Token`` header).
A state-changing request passes only if the signature is valid, not older than the
absolute session lifetime, and the signed nonce equals the cookie's. An attacker's page
can make the browser send the cookie but can neither read it nor sign a nonce. The
``Origin`` header, when the browser sends one, must also be this site.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "ventanilla_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            403,
            detail="La solicitud no se pudo verificar (el formulario venció o viene de otro sitio). "
            "Vuelva a cargar la página e intente de nuevo.",
        )


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="ventanilla-console-csrf")


def nonce_for(request: Request) -> str:
    """The request's nonce: the cookie's, or a new one that ``set_cookie`` will store."""
    existing = request.cookies.get(COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    fresh = getattr(request.state, "csrf_new_nonce", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.csrf_new_nonce = fresh
    return str(fresh)


def token_for(request: Request, secret: str) -> str:
    return str(_serializer(secret).dumps(nonce_for(request)))


def set_cookie(request: Request, response: Response, *, secure: bool) -> None:
    """Stores a nonce made during this request (no-op when the cookie was already there)."""
    fresh = getattr(request.state, "csrf_new_nonce", None)
    if fresh:
        response.set_cookie(COOKIE, fresh, path="/console", httponly=True, samesite="strict", secure=secure)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def verify(request: Request, secret: str, max_age_seconds: int) -> None:
    """Raises CsrfRefused unless a state-changing request carries a valid token."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(COOKIE)
    presented = request.headers.get(HEADER)
    if not presented:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD)
            presented = value if isinstance(value, str) else None
    if not cookie or not presented or not _same_origin(request):
        raise CsrfRefused()
    try:
        signed_nonce = _serializer(secret).loads(presented, max_age=max_age_seconds)
    except BadSignature:
        raise CsrfRefused() from None
    if not isinstance(signed_nonce, str) or not secrets.compare_digest(signed_nonce, cookie):
        raise CsrfRefused()
