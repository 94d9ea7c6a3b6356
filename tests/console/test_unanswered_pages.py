"""The unanswered inbox and the intent review, on SQLite and PostgreSQL.

Questions are recorded through the backend's own ``InteractionStore`` (what the action
server uses with the SQL repository), grouped with the unit-test embedder, and handled
through the console's forms: new FAQ draft (into review), paraphrases, out of scope,
dismiss. Handled groups leave the inbox; a new similar question is counted again.
Personal data is masked in every page; markup is shown as text; roles and CSRF hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.accounts.roles import Role
from backend.api import create_app
from backend.console.routes_content import publisher
from backend.content import service as content
from backend.content.publishing import Publisher
from backend.interactions import Candidate
from backend.models import AuditEvent
from backend.scratch_schema import scratch_schema
from backend.unanswered.models import Reason
from knowledge_base.out_of_scope import load_topics
from knowledge_base.settings import SearchSettings
from tests.console.conftest import ConsoleClient, console_settings, seed

USERS = {"edith": frozenset({Role.EDITOR}), "rita": frozenset({Role.REVIEWER})}
DOGS = [
    "permiso para perro peligroso",
    "como saco el permiso de perro peligroso",
    "necesito permiso para un perro peligroso",
]
POTHOLES = ["quiero denunciar un bache en mi calle", "denunciar un bache en la calle", "hay un bache en mi calle"]
PERSONAL = "permiso de perro peligroso, mi dni es 30.123.456, llamen al 11 5555-1234 o a ana.gil@example.org"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var = tmp_path_factory.mktemp("console-unanswered")
    if request.param == "postgres":
        where = scratch_schema(request.getfixturevalue("postgres_url"), prefix="unanswered")
        url = where.__enter__()
        settings = console_settings(var, database_url=url)
    else:
        where, settings = None, console_settings(var)
    application = create_app(settings, run_dispatcher=False)
    scratch = Publisher(
        SearchSettings(index_dir=var / "index", embedder="fake", out_of_scope_file=var / "out_of_scope.yml")
    )
    application.dependency_overrides[publisher] = lambda: scratch
    with TestClient(application):
        seed(application, USERS)
        yield application
    application.state.ventanilla.engine.dispose()
    if where is not None:
        where.__exit__(None, None, None)


def _record(app: FastAPI, text: str, reason: str = Reason.ABSTAINED, confidence: float = 0.9) -> None:
    app.state.ventanilla.interactions.record_unanswered(
        sender_id="citizen",
        channel="rest",
        reason=reason,
        question=text,
        intent="ask_procedure",
        intent_confidence=confidence,
        candidates=[Candidate("carnet-vacunacion", 0.31)],
        secrets=[],
    )


def _client(app: FastAPI, username: str) -> ConsoleClient:
    client = ConsoleClient(app)
    assert client.login(username).status_code == 303
    return client


def _group_of(page: str, *samples: str) -> tuple[str, int]:
    """The group key whose row shows one of ``samples`` (the three newest are shown), and its count."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL):
        if any(sample in row for sample in samples):
            key = re.search(r"group\?key=(\d+)", row)
            count = re.search(r"</ul></td>\s*<td>(\d+)</td>", row)
            assert key and count
            return key.group(1), int(count.group(1))
    raise AssertionError(f"no group shows {samples!r}:\n{page}")


def _ids(page: str) -> str:
    found = re.search(r'name="ids" value="([\d,]+)"', page)
    assert found
    return found.group(1)


def test_groups_are_handled_and_leave_the_inbox(app: FastAPI) -> None:
    for text in [*DOGS, *POTHOLES, PERSONAL, "<script>alert(1)</script> bache en la calle"]:
        _record(app, text)
    editor, reviewer = _client(app, "edith"), _client(app, "rita")
    assert reviewer.get("/console/unanswered").status_code == 403

    inbox = editor.get("/console/unanswered")
    assert inbox.status_code == 200
    for secret in ("30.123.456", "5555", "ana.gil", "<script>"):
        assert secret not in inbox.text
    assert "&lt;script&gt;" in inbox.text
    dog_key, dog_count = _group_of(inbox.text, *DOGS)
    pothole_key, pothole_count = _group_of(inbox.text, *POTHOLES)
    assert dog_key != pothole_key and dog_count == 4 and pothole_count == 4

    page = editor.get(f"/console/unanswered/group?key={dog_key}&procedure=carnet-vacunacion")
    assert page.status_code == 200 and "[correo]" in page.text and "ana.gil" not in page.text
    form = {
        "ids": _ids(page.text),
        "procedure_id": "carnet-vacunacion",
        "question": "¿Necesito un permiso para tener un perro peligroso?",
        "answer": "Sí: el permiso de tenencia de perros peligrosos se pide en la oficina de zoonosis.",
        "submit": "1",
    }
    assert editor.post("/console/unanswered/new-faq", form, csrf=False).status_code == 403
    done = editor.post("/console/unanswered/new-faq", form)
    assert done.status_code == 303 and done.headers["location"].endswith("done=faq_draft")
    with app.state.ventanilla.sessions() as db:
        working = content.get_content(db, procedure_id="carnet-vacunacion")
        assert working.version.status == "in_review"
        faq = working.data["faqs"][-1]
        assert faq["question"] == form["question"] and set(DOGS) <= set(faq["paraphrases"])
        assert not any("[" in p for p in faq["paraphrases"])  # masked questions are not paraphrases
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "unanswered.faq_draft")) is not None

    inbox = editor.get("/console/unanswered").text
    assert DOGS[1] not in inbox
    assert editor.post("/console/unanswered/new-faq", form).headers["location"].endswith("done=gone")
    _record(app, "permiso para perro peligroso por favor")  # like the handled group: counted again
    again_key, again_count = _group_of(editor.get("/console/unanswered").text, "perro peligroso por favor")
    assert again_count == 1

    page = editor.get(f"/console/unanswered/group?key={again_key}&procedure=apostilla")
    done = editor.post(
        "/console/unanswered/paraphrase", {"ids": _ids(page.text), "procedure_id": "apostilla", "faq": "2"}
    )
    assert done.status_code == 303
    with app.state.ventanilla.sessions() as db:
        working = content.get_content(db, procedure_id="apostilla")
        assert working.version.status == "draft"
        assert working.data["faqs"][1]["paraphrases"] == ["permiso para perro peligroso por favor"]

    page = editor.get(f"/console/unanswered/group?key={pothole_key}")
    short = editor.post("/console/unanswered/out-of-scope", {"ids": _ids(page.text), "topic": "baches"})
    assert short.status_code == 422 and "10 caracteres" in short.text
    done = editor.post(
        "/console/unanswered/out-of-scope", {"ids": _ids(page.text), "topic": "Arreglo de calles y baches (Vialidad)"}
    )
    assert done.status_code == 303
    topics, problems = load_topics(Path(app.dependency_overrides[publisher]().settings.out_of_scope_file))
    assert not problems and topics[-1].topic == "Arreglo de calles y baches (Vialidad)"
    assert POTHOLES[0] in topics[-1].keywords
    assert "No hay preguntas sin atender" in editor.get("/console/unanswered").text

    _record(app, "horario de la biblioteca")
    key, _ = _group_of(editor.get("/console/unanswered").text, "horario de la biblioteca")
    page = editor.get(f"/console/unanswered/group?key={key}")
    assert editor.post("/console/unanswered/dismiss", {"ids": _ids(page.text)}).status_code == 303
    assert "No hay preguntas sin atender" in editor.get("/console/unanswered").text


def test_low_confidence_intents_are_reviewed_and_exported(app: FastAPI) -> None:
    _record(app, "quiero sacar turno para el registro civil", Reason.LOW_CONFIDENCE, confidence=0.42)
    _record(app, "mi mail es x.y@example.org y quiero turno", Reason.LOW_CONFIDENCE, confidence=0.3)
    editor = _client(app, "edith")
    page = editor.get("/console/intents")
    assert page.status_code == 200 and "quiero sacar turno para el registro civil" in page.text
    assert "x.y@example.org" not in page.text
    assert _client(app, "rita").get("/console/intents").status_code == 403
    rows = dict(
        (q, r)
        for r, q in re.findall(r'name="row" value="(\d+)">.*?<span class="sr-only"> de «([^»]+)»', page.text, re.DOTALL)
    )
    row = rows["quiero sacar turno para el registro civil"]
    assert editor.post("/console/intents/review", {"row": row, "intent": "no_such_intent"}).status_code == 422
    assert editor.post("/console/intents/review", {"row": row, "intent": "open_case"}).status_code == 303
    masked_row = next(r for q, r in rows.items() if "[correo]" in q)
    assert editor.post("/console/intents/review", {"row": masked_row, "intent": "open_case"}).status_code == 303
    assert "quiero sacar turno" not in editor.get("/console/intents").text
    export = editor.get("/console/intents/export.yml")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    data = yaml.safe_load(export.text)
    assert data["nlu"] == [{"intent": "open_case", "examples": "- quiero sacar turno para el registro civil\n"}]
    assert "1 example(s) with masked personal data were left out" in export.text
