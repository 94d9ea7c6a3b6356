"""The dashboard's tables: the rows behind every chart, the same rows in every CSV export.

One function per table, so the HTML table, the chart's data and the CSV can never
disagree. Numbers only (shares as 0-1 decimals in the CSV, percentages on the page).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend import spreadsheet_csv
from backend.analytics.case_figures import CaseFigures
from backend.analytics.queries import Figures


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    header: tuple[str, ...]
    rows: list[tuple[str | int | float | None, ...]]

    def csv(self) -> str:
        """The same rows as CSV; text a spreadsheet would run as a formula (a masked sample
        question typed by a citizen) is quoted by the console's one CSV writer."""
        return spreadsheet_csv.to_csv(
            self.header,
            (["" if v is None else round(v, 4) if isinstance(v, float) else v for v in row] for row in self.rows),
        )


# Summary rows that are shares (0-1): shown as percentages on the page, decimals in the CSV.
SHARES = frozenset(
    {
        "Contención (resueltas sin persona)",
        "Tasa de abstención («no sé»)",
        "Tasa de fallback (no entendido)",
        "«¿Le sirvió?»: sí",
    }
)


def display(label: object, value: object) -> str:
    """A summary value as staff read it: "—" when there is no data, shares as percentages."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if label in SHARES:
            return f"{value * 100:.1f} %".replace(".", ",")
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def summary(f: Figures, cases: CaseFigures) -> Table:
    rows: list[tuple[str | int | float | None, ...]] = [
        ("Conversaciones", f.conversations),
        ("Contención (resueltas sin persona)", f.containment),
        ("Mensajes de ciudadanos", f.total("messages_in")),
        ("Respuestas de la base de conocimiento", f.total("answers")),
        ("Tasa de abstención («no sé»)", f.abstention_rate),
        ("Tasa de fallback (no entendido)", f.fallback_rate),
        ("Derivaciones a una persona", f.total("handoffs")),
        ("Trámites iniciados en la conversación", f.total("cases_opened")),
        ("«¿Le sirvió?»: sí", f.helpful_share),
        ("Calificación media (1-5)", f.rating_mean),
        ("Tiempo de respuesta, mediana (ms)", f.reply_median_ms),
        ("Tiempo de respuesta, p95 (ms)", f.reply_p95_ms),
        ("Trámites cerrados", cases.closed),
        ("Días hasta el cierre, mediana", cases.median_days_to_close),
    ]
    return Table("resumen", "Resumen", ("indicador", "valor"), rows)


def per_day(f: Figures) -> Table:
    rows: list[tuple[str | int | float | None, ...]] = [
        (
            day.isoformat(),
            v.get("conversations", 0),
            v.get("contained", 0),
            v.get("messages_in", 0),
            v.get("fallbacks", 0),
            v.get("abstentions", 0),
            v.get("handoffs", 0),
        )
        for day, v in f.per_day.items()
    ]
    header = ("dia", "conversaciones", "contenidas", "mensajes", "fallbacks", "abstenciones", "derivaciones")
    return Table("por_dia", "Conversaciones por día", header, rows)


def per_channel(f: Figures) -> Table:
    return Table("por_canal", "Conversaciones por canal", ("canal", "conversaciones"), list(f.per_channel.items()))


def procedures(f: Figures, limit: int = 15) -> Table:
    return Table("tramites", "Trámites más consultados", ("tramite", "respuestas"), list(f.procedures[:limit]))


def ratings(f: Figures) -> Table:
    rows: list[tuple[str | int | float | None, ...]] = [(score, f.ratings.get(score, 0)) for score in range(1, 6)]
    return Table("calificaciones", "Calificaciones de 1 a 5", ("calificacion", "cantidad"), rows)


def cases_by_status(cases: CaseFigures) -> Table:
    return Table(
        "tramites_por_estado",
        "Trámites iniciados, por estado actual",
        ("estado", "cantidad"),
        sorted(cases.by_status.items()),
    )


def all_tables(f: Figures, cases: CaseFigures) -> list[Table]:
    return [summary(f, cases), per_day(f), per_channel(f), procedures(f), ratings(f), cases_by_status(cases)]
