"""Every console CSV quotes text a spreadsheet would run as a formula, and leaves numbers alone."""

from __future__ import annotations

from backend.analytics.tables import Table
from backend.spreadsheet_csv import safe_cell, to_csv


def test_formula_text_is_quoted_and_numbers_stay_numbers() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+54 9", "-x", "@SUM(A1)", "\tx", "texto", -3, -0.5)] == [
        "'=1+1",
        "'+54 9",
        "'-x",
        "'@SUM(A1)",
        "'\tx",
        "texto",
        -3,
        -0.5,
    ]
    assert to_csv(("a", "b"), [("=cmd", -1)]) == "a,b\r\n'=cmd,-1\r\n"


def test_a_dashboard_table_with_a_citizens_sample_question_is_safe_in_a_spreadsheet() -> None:
    table = Table(
        "sin_respuesta", "Sin respuesta", ("muestra", "cantidad", "puntaje"), [('=HYPERLINK("x")', 3, -0.12345)]
    )
    assert table.csv().splitlines() == ["muestra,cantidad,puntaje", '"\'=HYPERLINK(""x"")",3,-0.1235']
