"""Content pages at the page level: validation errors next to their fields, the concurrent-edit
conflict (nothing lost), an import with bad rows (nothing applied), self-approval refused,
the review flow's pages, and markup shown as text. The service-level tests of the same rules
are in tests/content/."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.accounts.roles import Role
from backend.api import create_app
from backend.console.routes_content import publisher
from backend.content import service as content
from backend.content.publishing import Publisher
from knowledge_base.settings import SearchSettings
from tests.console.conftest import ConsoleClient, console_settings, seed

USERS = {
    "edith": frozenset({Role.EDITOR}),
    "elena": frozenset({Role.EDITOR}),
    "dual": frozenset({Role.EDITOR, Role.REVIEWER}),
    "rita": frozenset({Role.REVIEWER}),
    "ada": frozenset({Role.ADMIN}),
}
PROCEDURE = "carnet-vacunacion"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    application = create_app(console_settings(tmp_path_factory.mktemp("console-content")), run_dispatcher=False)
    # A scratch index directory: nothing here may touch a real index (no publish reaches it).
    scratch = Publisher(SearchSettings(index_dir=tmp_path_factory.mktemp("content-index")))
    application.dependency_overrides[publisher] = lambda: scratch
    with TestClient(application):
        seed(application, USERS)
        yield application


def _client(app: FastAPI, username: str) -> ConsoleClient:
    client = ConsoleClient(app)
    assert client.login(username).status_code == 303
    return client


def _form_fields(html: str) -> dict[str, str]:
    """The edit form's current values, as the browser would post them back."""
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input id="[^"]*" name="([^"]+)" value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(r'<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.DOTALL):
        fields[name] = value
    base = re.search(r'name="base_revision" value="(\d+)"', html)
    if base:
        fields["base_revision"] = base.group(1)
    import html as html_module

    return {k: html_module.unescape(v) for k, v in fields.items()}


def _working(app: FastAPI) -> content.ProcedureContent:
    with app.state.ventanilla.sessions() as db:
        return content.get_content(db, procedure_id=PROCEDURE, which="working")


def test_a_validation_error_is_shown_next_to_its_field(app: FastAPI) -> None:
    editor = _client(app, "edith")
    fields = _form_fields(editor.get(f"/console/procedures/{PROCEDURE}/edit").text)
    assert fields["cost"].startswith("Todo es gratuito")
    response = editor.post(
        f"/console/procedures/{PROCEDURE}/edit", {**fields, "cost": "Gratis", "faqs.0.answer": "corta"}
    )
    assert response.status_code == 422
    page = response.text
    assert re.search(r'<textarea id="f-cost" name="cost"[^>]*aria-describedby="err-f-cost" aria-invalid="true"', page)
    assert re.search(r'<p class="field-error" id="err-f-cost">[^<]+</p>', page)
    assert 'aria-describedby="err-f-faqs-0-answer"' in page and 'href="#f-cost"' in page
    assert ">Gratis</textarea>" in page  # what was typed stays in the form
    assert _working(app).version.status == "published"  # nothing saved


def test_the_second_of_two_concurrent_saves_is_refused_and_nothing_is_lost(app: FastAPI) -> None:
    first, second = _client(app, "edith"), _client(app, "elena")
    form_first = _form_fields(first.get(f"/console/procedures/{PROCEDURE}/edit").text)
    form_second = _form_fields(second.get(f"/console/procedures/{PROCEDURE}/edit").text)
    text_first = "Es gratuito para todas las personas, con o sin obra social (texto de Edith)."
    text_second = "No tiene costo en ningún vacunatorio municipal de la ciudad (texto de Elena)."

    saved = first.post(f"/console/procedures/{PROCEDURE}/edit", {**form_first, "cost": text_first})
    assert saved.status_code == 303
    refused = second.post(f"/console/procedures/{PROCEDURE}/edit", {**form_second, "cost": text_second})
    assert refused.status_code == 409
    page = refused.text
    assert 'id="conflict"' in page and "no se perdió nada" in page
    assert f">{text_second}</textarea>" in page  # Elena's text is still in her form
    assert text_first in page  # and Edith's saved text is shown beside it
    assert _working(app).data["cost"] == text_first  # the first save stands

    # Elena decides to keep hers: the form now carries the current revision, so saving again works.
    resent = second.post(f"/console/procedures/{PROCEDURE}/edit", _form_fields(page))
    assert resent.status_code == 303
    assert _working(app).data["cost"] == text_second


def test_review_flow_pages_and_no_self_approval(app: FastAPI) -> None:
    dual, reviewer = _client(app, "dual"), _client(app, "rita")
    form = _form_fields(dual.get(f"/console/procedures/{PROCEDURE}/edit").text)
    hostile = '<script>alert("faq")</script> ¿Se paga algo por la vacuna de la fiebre amarilla?'
    assert dual.post(f"/console/procedures/{PROCEDURE}/edit", {**form, "faqs.0.question": hostile}).status_code == 303
    page = dual.get(f"/console/procedures/{PROCEDURE}")
    assert "<script>alert(" not in page.text and "&lt;script&gt;alert(" in page.text
    revision = re.search(r'name="base_revision" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    assert (
        dual.post(
            f"/console/procedures/{PROCEDURE}/submit", {"base_revision": revision, "comment": "Listo"}
        ).status_code
        == 303
    )

    page = dual.get(f"/console/procedures/{PROCEDURE}")
    revision = re.search(r'name="base_revision" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    own = dual.post(f"/console/procedures/{PROCEDURE}/publish", {"base_revision": revision})
    assert own.status_code == 409 and "usted mismo escribió" in own.text
    assert _working(app).version.status == "in_review"

    home = reviewer.get("/console").text
    assert "Cambios esperando revisión (1)" in home and f"/console/procedures/{PROCEDURE}" in home
    reviewer.get(f"/console/procedures/{PROCEDURE}")
    empty = reviewer.post(f"/console/procedures/{PROCEDURE}/return", {"base_revision": revision, "comment": ""})
    assert empty.status_code == 409 and _working(app).version.status == "in_review"
    back = reviewer.post(
        f"/console/procedures/{PROCEDURE}/return", {"base_revision": revision, "comment": "Falta <b>la fecha</b>"}
    )
    assert back.status_code == 303 and _working(app).version.status == "draft"
    page = dual.get(f"/console/procedures/{PROCEDURE}").text
    assert "Falta &lt;b&gt;la fecha&lt;/b&gt;" in page

    history = dual.get(f"/console/procedures/{PROCEDURE}/history").text
    numbers = sorted(int(n) for n in re.findall(r"/versions/(\d+)\"", history))
    diff = dual.get(f"/console/procedures/{PROCEDURE}/diff?left={numbers[0]}&right={numbers[-1]}")
    assert diff.status_code == 200 and "diff-changed" in diff.text and "&lt;script&gt;" in diff.text


def _export_rows(client: ConsoleClient) -> list[dict[str, str]]:
    response = client.get("/console/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _sheet(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_an_import_with_bad_rows_shows_every_error_and_applies_nothing(app: FastAPI) -> None:
    editor = _client(app, "edith")
    rows = [r for r in _export_rows(editor) if r["procedure_id"] == "defuncion-certificado"]
    assert rows, "the export has the procedure's FAQs"
    rows[0]["answer"] = "corta"
    rows.append(
        {**rows[1], "id": "", "procedure_id": "no-existe-este-tramite", "question": "¿Una pregunta nueva aquí?"}
    )
    payload = _sheet(rows)
    with app.state.ventanilla.sessions() as db:
        drafts_before = [p.procedure_id for p in content.list_procedures(db, status="draft")]

    editor.get("/console/import")
    preview = editor.post("/console/import/preview", files={"sheet": ("faqs.csv", payload, "text/csv")})
    assert preview.status_code == 422
    assert "no se aplicará nada" in preview.text and "/console/import/apply" not in preview.text
    assert preview.text.count("<tr><td>") >= 2  # one line per problem, at least the two bad rows

    token = content.plan_import(app.state.ventanilla.sessions(), file_name="faqs.csv", payload=payload).token
    forced = editor.post(
        "/console/import/apply",
        {"file_name": "faqs.csv", "token": token, "payload_b64": base64.b64encode(payload).decode()},
    )
    assert forced.status_code == 422
    with app.state.ventanilla.sessions() as db:
        assert [p.procedure_id for p in content.list_procedures(db, status="draft")] == drafts_before
        assert "corta" not in str(content.get_content(db, procedure_id="defuncion-certificado").data)


def test_a_good_import_is_previewed_then_applied_as_drafts(app: FastAPI) -> None:
    editor = _client(app, "edith")
    rows = [r for r in _export_rows(editor) if r["procedure_id"] == "defuncion-certificado"]
    rows[0]["answer"] = rows[0]["answer"] + " Consulte también en la oficina más cercana a su domicilio."
    payload = _sheet(rows)
    editor.get("/console/import")
    preview = editor.post("/console/import/preview", files={"sheet": ("faqs.csv", payload, "text/csv")})
    assert preview.status_code == 200 and "1 cambiadas" in preview.text
    with app.state.ventanilla.sessions() as db:
        assert content.get_content(db, procedure_id="defuncion-certificado").version.status == "published"
    fields = dict(re.findall(r'name="(file_name|token|payload_b64)" value="([^"]*)"', preview.text))
    applied = editor.post("/console/import/apply", fields)
    assert applied.status_code == 303
    with app.state.ventanilla.sessions() as db:
        working = content.get_content(db, procedure_id="defuncion-certificado")
        assert working.version.status == "draft" and "oficina más cercana" in str(working.data)


def test_procedure_list_filters_and_audit_filters(app: FastAPI) -> None:
    reader = _client(app, "rita")
    found = reader.get("/console/procedures?q=vacunacion&status=&office=&stale=").text
    assert "Carnet de vacunación" in found and "Certificado de defunción" not in found
    drafts = reader.get("/console/procedures?status=draft").text
    assert "Certificado de defunción" in drafts
    admin = _client(app, "ada")
    log = admin.get("/console/audit?action=content.&target=carnet-vacunacion").text
    assert "content." in log and "edith" in log and "elena" in log
    assert admin.get("/console/audit?actor=nadie").text.count("No hay eventos") == 1
    assert admin.get("/console/audit?from=ayer").status_code == 200  # a bad date is explained, not a crash
