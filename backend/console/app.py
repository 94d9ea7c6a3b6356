"""Mounts the console on the backend app: routers (with CSRF), static files, error pages.

The JSON APIs (/staff, /internal) keep their own behaviour: the HTML error pages and
the login redirect apply to /console paths only.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import HTTPException
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.console import (
    routes_admin,
    routes_agents,
    routes_analytics,
    routes_auth,
    routes_bulk,
    routes_cases,
    routes_content,
    routes_unanswered,
)
from backend.console.guard import PUBLIC, LoginRequired, check_csrf
from backend.console.web import finish, render
from backend.settings import PROJECT_ROOT

STATIC_DIR = Path(__file__).resolve().parent / "static"
HTMX = PROJECT_ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"

TITLES = {403: "Sin permiso", 404: "No encontrado", 409: "No se pudo completar", 422: "Datos no válidos"}


def _login_redirect(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/console/login" + (f"?next={quote(target)}" if request.method == "GET" else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # registered for that class only
        raise exc
    if not request.url.path.startswith("/console") or request.url.path.startswith("/console/static"):
        return await http_exception_handler(request, exc)
    state = request.app.state.ventanilla
    heading = TITLES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else "La solicitud no es válida."
    return render(request, state, "error.html", {"heading": heading, "detail": detail}, status_code=exc.status_code)


def htmx_script() -> Response:
    """htmx from node_modules (npm, pinned in package-lock.json), never from a CDN."""
    if not HTMX.is_file():
        raise HTTPException(404, detail="htmx no está instalado (make npm).")
    return FileResponse(HTMX, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


def install(app: FastAPI) -> None:
    csrf = [Depends(check_csrf)]
    for module in (
        routes_auth,
        routes_admin,
        routes_content,
        routes_bulk,
        routes_cases,
        routes_agents,
        routes_analytics,
        routes_unanswered,
    ):
        app.include_router(module.router, dependencies=csrf, include_in_schema=False)
    app.add_api_route(
        "/console/vendor/htmx.min.js",
        htmx_script,
        methods=["GET"],
        dependencies=[Depends(PUBLIC)],
        include_in_schema=False,
    )
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(StarletteHTTPException, _http_error)


__all__ = ["finish", "install"]
