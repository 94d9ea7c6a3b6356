"""The analytics dashboard (/console/analytics), its CSV exports, and the public transparency page.

The dashboard: any signed-in staff member; a date range and a channel; charts drawn by
Chart.js (npm, pinned; served from node_modules like htmx) from the same rows as the data
table under each chart, and a CSV of every table. The public page (/transparencia): off
unless ``VENTANILLA_PUBLIC_PAGE=true``; the last 30 days; no JavaScript; any figure built
from fewer than ``VENTANILLA_PUBLIC_MIN_CONVERSATIONS`` (10) conversations is hidden.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from backend.accounts.models import StaffUser
from backend.analytics import public, tables, unanswered_top
from backend.analytics.case_figures import case_figures
from backend.analytics.queries import channels, figures
from backend.analytics.settings import AnalyticsSettings
from backend.console.guard import PUBLIC, SIGNED_IN, ConsoleDb, ConsoleState
from backend.console.routes_content import Pub
from backend.console.routes_unanswered import inbox_groups
from backend.console.web import finish, render
from backend.content import service as content
from backend.settings import PROJECT_ROOT

router = APIRouter()
CHART_JS = PROJECT_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
MAX_DAYS = 400
Staff = Annotated[StaffUser, Depends(SIGNED_IN)]


def _range(desde: str, hasta: str) -> tuple[date, date]:
    """The range asked for (default: the last 30 days); 422 with a plain reason otherwise."""
    today = datetime.now(UTC).date()
    try:
        end = date.fromisoformat(hasta) if hasta else today
        start = date.fromisoformat(desde) if desde else end - timedelta(days=29)
    except ValueError:
        raise HTTPException(422, detail="Las fechas deben tener la forma AAAA-MM-DD.") from None
    if start > end:
        raise HTTPException(422, detail="La fecha «desde» es posterior a «hasta».")
    if (end - start).days > MAX_DAYS:
        raise HTTPException(422, detail=f"El período puede abarcar como mucho {MAX_DAYS} días.")
    return start, end


def _chart(kind: str, table: tables.Table, columns: list[int], labels: list[str]) -> str:
    """The chart's data as JSON for static/analytics.js, taken from the table's own rows."""
    return json.dumps(
        {
            "type": kind,
            "labels": [str(row[0]) for row in table.rows],
            "datasets": [
                {"label": label, "data": [row[c] for row in table.rows]}
                for c, label in zip(columns, labels, strict=True)
            ],
        },
        ensure_ascii=False,
    )


def _tables(db: ConsoleDb, start: date, end: date, canal: str) -> list[tables.Table]:
    result = figures(db, start, end, canal or None)
    return tables.all_tables(result, case_figures(db, start, end, canal or None))


def _unanswered(
    request: Request, db: ConsoleDb, pub: content.Publisher, start: date, end: date, canal: str
) -> tables.Table:
    """The biggest unanswered groups of the range: the inbox's grouping, counted in the range and channel."""
    asked = unanswered_top.asked_in(db, start, end, canal or None)
    groups = inbox_groups(request, db, pub) if asked else []
    titles = {p.procedure_id: p.title for p in content.list_procedures(db)} if asked else {}
    return unanswered_top.table(unanswered_top.top_groups(groups, asked, titles))


@router.get("/console/analytics", response_class=HTMLResponse)
def dashboard(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    user: Staff,
    pub: Pub,
    desde: Annotated[str, Query(max_length=10)] = "",
    hasta: Annotated[str, Query(max_length=10)] = "",
    canal: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    start, end = _range(desde, hasta)
    summary, per_day, per_channel, procedures, ratings, by_status = _tables(db, start, end, canal)
    charts = {
        "por_dia": _chart("line", per_day, [1, 2], ["Conversaciones", "Contenidas"]),
        "por_canal": _chart("bar", per_channel, [1], ["Conversaciones"]),
        "tramites": _chart("bar", procedures, [1], ["Respuestas"]),
        "calificaciones": _chart("bar", ratings, [1], ["Calificaciones"]),
        "tramites_por_estado": _chart("bar", by_status, [1], ["Trámites"]),
    }
    query = {"desde": start.isoformat(), "hasta": end.isoformat(), "canal": canal}
    context: dict[str, Any] = {
        "start": start,
        "end": end,
        "canal": canal,
        "channels": channels(db),
        "summary": summary,
        "unanswered": _unanswered(request, db, pub, start, end, canal),
        "charted": [per_day, per_channel, procedures, ratings, by_status],
        "charts": charts,
        "query": urlencode(query),
    }
    return render(request, state, "analytics.html", context)


@router.get("/console/analytics/export.csv")
def export_csv(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    user: Staff,
    pub: Pub,
    tabla: Annotated[str, Query(max_length=40)] = "resumen",
    desde: Annotated[str, Query(max_length=10)] = "",
    hasta: Annotated[str, Query(max_length=10)] = "",
    canal: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    start, end = _range(desde, hasta)
    if tabla == "sin_respuesta":
        table: tables.Table | None = _unanswered(request, db, pub, start, end, canal)
    else:
        table = next((t for t in _tables(db, start, end, canal) if t.name == tabla), None)
    if table is None:
        raise HTTPException(404, detail="No existe esa tabla.")
    filename = f"ventanilla-{table.name}-{start.isoformat()}-{end.isoformat()}.csv"
    response = Response(
        table.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    finish(request, state, response)
    return response


def chart_script() -> Response:
    """Chart.js from node_modules (npm, pinned in package-lock.json), never from a CDN."""
    if not CHART_JS.is_file():
        raise HTTPException(404, detail="Chart.js no está instalado (make npm).")
    return FileResponse(CHART_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


router.add_api_route("/console/vendor/chart.umd.min.js", chart_script, methods=["GET"], dependencies=[Depends(PUBLIC)])


@router.get("/transparencia", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def transparency(request: Request, state: ConsoleState, db: ConsoleDb) -> Response:
    backend = state.settings  # the production checks already passed with these
    settings = AnalyticsSettings(
        env=backend.env, database_url=backend.database_url, case_hash_key=backend.case_hash_key
    )
    if not settings.public_page:
        raise HTTPException(404, detail="La página de transparencia no está habilitada.")
    end = datetime.now(UTC).date()
    start = end - timedelta(days=29)
    page = public.public_figures(figures(db, start, end), settings.public_min_conversations)
    return render(request, state, "transparency.html", {"start": start, "end": end, "page": page})
