"""Bulk FAQ editing with ``kb import`` sheets (CSV/XLSX): a plan first, then one transaction.

A sheet's rows for a procedure become that procedure's FAQ list, in sheet order.
``export_published`` writes each published FAQ as a row with id ``<procedure>.faq-<n>``;
a row with such an id edits FAQ n, any other id adds a FAQ, and a FAQ of a procedure
in the sheet whose row is gone is removed. Changed procedures get a draft each (they
go through review like any edit). Rows without a procedure are refused here: imported
documents stay files (``kb import``), see knowledge_base/README.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from backend.content import store
from backend.content.errors import ConflictError, ValidationFailed
from backend.content.models import ContentProcedure
from backend.content.rendering import canonical
from backend.content.types import FaqChange, ImportPlan, RowProblem
from backend.content.validation import validate
from backend.content.workflow import stage_draft
from knowledge_base.importer import Entry, read_checked

COLUMNS = ("id", "procedure_id", "question", "answer", "title", "source_url", "last_reviewed")
_EXISTING = re.compile(r"^(?P<pid>[a-z0-9-]+)\.faq-(?P<n>\d+)$")


def _entries(file_name: str, payload: bytes) -> tuple[list[Entry], list[RowProblem]]:
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return [], [RowProblem(0, "(archivo)", "formato no soportado: use una planilla .csv o .xlsx")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"planilla{suffix}"
        path.write_bytes(payload)
        try:
            entries, problems = read_checked(path)
        except (ValueError, OSError, KeyError) as exc:  # a corrupt XLSX, a non-UTF-8 CSV
            return [], [RowProblem(0, "(archivo)", f"no se puede leer la planilla: {exc}")]
    return entries, [RowProblem(p.line, p.field, p.message) for p in problems]


def _plan(session: Session, file_name: str, payload: bytes) -> tuple[ImportPlan, dict[str, dict[str, Any]]]:
    entries, problems = _entries(file_name, payload)
    live = store.live_data(session)
    rows: dict[str, list[Entry]] = {}
    for e in entries:
        if not e.procedure_id:
            problems.append(
                RowProblem(
                    e.line,
                    "procedure_id",
                    "indique el trámite (columna 'tramite'): la consola importa preguntas de trámites",
                )
            )
        elif e.procedure_id not in live:
            problems.append(RowProblem(e.line, "procedure_id", f"enlace roto: no existe el trámite '{e.procedure_id}'"))
        else:
            rows.setdefault(e.procedure_id, []).append(e)
    added: list[FaqChange] = []
    changed: list[FaqChange] = []
    removed: list[FaqChange] = []
    unchanged = 0
    new_data: dict[str, dict[str, Any]] = {}
    for pid, items in rows.items():
        old_faqs = live[pid].get("faqs", [])
        used: set[int] = set()
        faqs = []
        for e in items:
            after: dict[str, Any] = {"question": e.question, "answer": e.answer}
            faqs.append(after)
            match = _EXISTING.match(e.id)
            n = int(match["n"]) if match and match["pid"] == pid else 0
            if 1 <= n <= len(old_faqs) and n not in used:
                used.add(n)
                before = dict(old_faqs[n - 1])
                if before.get("paraphrases"):  # sheets have no column for them: keep them
                    after["paraphrases"] = before["paraphrases"]
                if before == after:
                    unchanged += 1
                else:
                    changed.append(FaqChange(pid, e.id, e.question, before, after))
            else:
                added.append(FaqChange(pid, e.id, e.question, None, after))
        for n, faq in enumerate(old_faqs, 1):
            if n not in used:
                removed.append(FaqChange(pid, f"{pid}.faq-{n}", str(faq.get("question", "")), dict(faq), None))
        if faqs != old_faqs:
            new_data[pid] = {**live[pid], "faqs": faqs}
    for pid, data in new_data.items():
        procedure = session.get(ContentProcedure, pid)
        working = store.version(session, procedure.working_version_id) if procedure else None
        if working is not None and working.status == "in_review":
            problems.append(
                RowProblem(0, pid, "tiene un cambio en revisión: publíquelo o devuélvalo antes de importar")
            )
        try:
            validate(session, procedure_id=pid, data=data)
        except ValidationFailed as exc:
            problems += [RowProblem(0, f"{pid}: {field}", message) for field, message in exc.problems]
    plan = ImportPlan(
        file_name=file_name,
        added=added,
        changed=changed,
        removed=removed,
        unchanged=unchanged,
        problems=sorted(problems, key=lambda p: p.line),
        procedures=sorted(new_data),
        token=hashlib.sha256(payload).hexdigest(),
    )
    return plan, new_data


def plan_import(session: Session, *, file_name: str, payload: bytes) -> ImportPlan:
    plan, _ = _plan(session, file_name, payload)
    session.rollback()  # reading only; leave no transaction open
    return plan


def apply_import(session: Session, *, file_name: str, payload: bytes, token: str, actor: str) -> ImportPlan:
    plan, new_data = _plan(session, file_name, payload)
    if plan.token != token:
        session.rollback()
        raise ConflictError(
            "La planilla no es la misma que se previsualizó: vuelva a cargarla.",
            current_revision=0,
            current=None,
            refused=None,
        )
    if plan.problems:
        session.rollback()
        raise ValidationFailed(
            [(f"línea {p.line}: {p.field}" if p.line else p.field, p.message) for p in plan.problems]
        )
    for pid in plan.procedures:
        procedure = store.get_procedure(session, pid)
        store.claim(session, procedure, procedure.revision)
        clean = canonical(validate(session, procedure_id=pid, data=new_data[pid]))
        stage_draft(session, procedure, clean, actor)
    store.audit(
        session,
        actor=actor,
        action="imported",
        procedure_id="",
        after={
            "file": file_name,
            "procedures": plan.procedures,
            "added": len(plan.added),
            "changed": len(plan.changed),
            "removed": len(plan.removed),
        },
    )
    session.commit()
    return plan


def export_rows(session: Session) -> list[dict[str, str]]:
    rows = []
    for pid, data in sorted(store.published_data(session).items()):
        for n, faq in enumerate(data.get("faqs", []), 1):
            rows.append(
                {
                    "id": f"{pid}.faq-{n}",
                    "procedure_id": pid,
                    "question": faq["question"],
                    "answer": faq["answer"],
                    "title": data["title"],
                    "source_url": data["source_url"],
                    "last_reviewed": data["last_reviewed"],
                }
            )
    return rows


def export_published(session: Session, *, fmt: str) -> bytes:
    rows = export_rows(session)
    session.rollback()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "preguntas"
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append([row[c] for c in COLUMNS])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"Formato de exportación desconocido: {fmt} (use csv o xlsx)")
