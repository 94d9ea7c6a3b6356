"""Bulk import (plan, nothing applied with bad rows, one transaction), export round trip, files <-> database rule."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from backend.content import service
from backend.content.errors import ValidationFailed

PID = "impuesto-predial"


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "tramite", "pregunta", "respuesta"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_export_round_trip_changes_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    for fmt, name in (("csv", "todo.csv"), ("xlsx", "todo.xlsx")):
        payload = service.export_published(seeded, fmt=fmt)
        plan = service.plan_import(seeded, file_name=name, payload=payload)
        assert plan.problems == [] and not (plan.added or plan.changed or plan.removed)
        assert plan.unchanged == sum(s.faq_count for s in service.list_procedures(seeded))


def test_import_with_a_bad_row_applies_nothing_and_a_good_sheet_makes_drafts(seeded) -> None:  # type: ignore[no-untyped-def]
    faqs = service.get_content(seeded, procedure_id=PID).data["faqs"]
    rows = [
        {"id": f"{PID}.faq-{n}", "tramite": PID, "pregunta": f["question"], "respuesta": f["answer"]}
        for n, f in enumerate(faqs, 1)
    ]
    rows[0]["respuesta"] = "Se paga en cuatro cuotas sin recargo hasta el último día hábil de cada trimestre."
    rows.append(
        {
            "id": "nueva-1",
            "tramite": PID,
            "pregunta": "¿Puedo pagar el predial con tarjeta?",
            "respuesta": "Sí, con tarjeta de débito o crédito en línea y en las cajas municipales.",
        }
    )
    bad = [*rows, {"id": "mala", "tramite": "no-existe", "pregunta": "corta", "respuesta": "breve"}]
    plan = service.plan_import(seeded, file_name="predial.csv", payload=_csv(bad))
    assert not plan.can_apply
    assert {(p.line, p.field) for p in plan.problems} >= {(len(bad) + 1, "question"), (len(bad) + 1, "answer")}
    with pytest.raises(ValidationFailed):
        service.apply_import(seeded, file_name="predial.csv", payload=_csv(bad), token=plan.token, actor="ana")
    assert service.list_procedures(seeded, status="draft") == []  # nothing applied
    good = service.plan_import(seeded, file_name="predial.csv", payload=_csv(rows))
    assert good.can_apply and len(good.added) == 1 and len(good.changed) == 1 and good.removed == []
    assert good.procedures == [PID]
    service.apply_import(seeded, file_name="predial.csv", payload=_csv(rows), token=good.token, actor="ana")
    draft = service.get_content(seeded, procedure_id=PID)
    assert draft.version.status == "draft" and len(draft.data["faqs"]) == len(faqs) + 1
    assert draft.data["faqs"][0]["answer"] == rows[0]["respuesta"]


def test_files_and_database_never_overwrite_each_other_silently(seeded, publisher, kb) -> None:  # type: ignore[no-untyped-def]
    path = kb.content_dir / f"{PID}.yml"
    assert service.sync_from_files(seeded, content_dir=kb.content_dir).imported == []  # already in sync
    # The database goes ahead: export writes the file; a later sync takes nothing back.
    content = service.get_content(seeded, procedure_id=PID)
    data = {**content.data, "cost": "Desde 2026 el predial se calcula con la nueva tabla de avalúos municipales."}
    d = service.save_draft(seeded, procedure_id=PID, data=data, base_revision=content.revision, actor="ana")
    r = service.submit_for_review(seeded, procedure_id=PID, base_revision=d.revision, actor="ana")
    service.publish(seeded, procedure_id=PID, base_revision=r.revision, actor="rita", publisher=publisher)
    assert service.sync_from_files(seeded, content_dir=kb.content_dir).refused == [PID]
    assert service.export_to_files(seeded, content_dir=kb.content_dir).exported == [PID]
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["cost"] == data["cost"]
    # The file goes ahead: sync publishes it; export refuses to undo it before that.
    edited = yaml.safe_load(path.read_text(encoding="utf-8"))
    edited["cost"] = "Editado a mano en el archivo: el predial se paga en dos cuotas semestrales."
    path.write_text(yaml.safe_dump(edited, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert service.export_to_files(seeded, content_dir=kb.content_dir).refused == [PID]
    assert service.sync_from_files(seeded, content_dir=kb.content_dir).imported == [PID]
    assert service.get_content(seeded, procedure_id=PID, which="published").data["cost"] == edited["cost"]
    # Both change: diverged, named, nothing overwritten on either side.
    content = service.get_content(seeded, procedure_id=PID)
    d = service.save_draft(
        seeded,
        procedure_id=PID,
        data={**content.data, "cost": "Cambio de la consola sobre el costo del predial."},
        base_revision=content.revision,
        actor="ana",
    )
    r = service.submit_for_review(seeded, procedure_id=PID, base_revision=d.revision, actor="ana")
    service.publish(seeded, procedure_id=PID, base_revision=r.revision, actor="rita", publisher=publisher)
    edited["cost"] = "Otro cambio hecho a mano en el archivo sobre el costo del predial."
    path.write_text(yaml.safe_dump(edited, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert service.sync_from_files(seeded, content_dir=kb.content_dir).diverged == [PID]
    assert service.export_to_files(seeded, content_dir=kb.content_dir).diverged == [PID]
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["cost"] == edited["cost"]
    assert (
        service.get_content(seeded, procedure_id=PID, which="published").data["cost"].startswith("Cambio de la consola")
    )
