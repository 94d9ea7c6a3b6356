"""The review workflow on a real database: transitions, self-approval, optimistic locking, history, diff, restore."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.content import service
from backend.content.errors import ConflictError, InvalidTransition, SelfApprovalError, ValidationFailed
from backend.models import AuditEvent

PID = "impuesto-predial"
NEW_COST = "El impuesto predial 2026 cuesta el 1,5 por mil del avalúo fiscal, en cuatro cuotas trimestrales."


def _edited(session, cost: str = NEW_COST) -> dict:  # type: ignore[no-untyped-def]
    content = service.get_content(session, procedure_id=PID)
    return {**content.data, "cost": cost}, content.revision


def test_draft_review_publish_and_refusals(seeded, publisher) -> None:  # type: ignore[no-untyped-def]
    data, rev = _edited(seeded)
    draft = service.save_draft(seeded, procedure_id=PID, data=data, base_revision=rev, actor="ana")
    assert draft.version.status == "draft" and draft.version.number == 2 and draft.data["cost"] == NEW_COST
    assert service.get_content(seeded, procedure_id=PID, which="published").data["cost"] != NEW_COST
    with pytest.raises(InvalidTransition):
        service.publish(seeded, procedure_id=PID, base_revision=draft.revision, actor="rita", publisher=publisher)
    review = service.submit_for_review(
        seeded, procedure_id=PID, base_revision=draft.revision, actor="ana", comment="nuevo valor"
    )
    with pytest.raises(InvalidTransition):  # no editing while in review
        service.save_draft(seeded, procedure_id=PID, data=data, base_revision=review.revision, actor="ana")
    with pytest.raises(SelfApprovalError):
        service.publish(seeded, procedure_id=PID, base_revision=review.revision, actor="ana", publisher=publisher)
    with pytest.raises(ValidationFailed):
        service.return_to_draft(seeded, procedure_id=PID, base_revision=review.revision, actor="rita", comment=" ")
    back = service.return_to_draft(
        seeded, procedure_id=PID, base_revision=review.revision, actor="rita", comment="falta la fecha"
    )
    assert back.version.status == "draft"
    again = service.submit_for_review(seeded, procedure_id=PID, base_revision=back.revision, actor="ana")
    result = service.publish(seeded, procedure_id=PID, base_revision=again.revision, actor="rita", publisher=publisher)
    assert result.version_number == 2
    assert service.get_content(seeded, procedure_id=PID, which="published").data["cost"] == NEW_COST
    assert [c.kind for c in service.list_comments(seeded, procedure_id=PID)] == [
        "submitted",
        "returned",
        "submitted",
        "published",
    ]
    actions = [
        e.action
        for e in seeded.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.details.get("procedure_id") == PID
    ]
    assert actions[-5:] == [
        "content.draft_saved",
        "content.submitted",
        "content.returned",
        "content.submitted",
        "content.published",
    ]
    published = seeded.scalars(select(AuditEvent).where(AuditEvent.action == "content.published")).one()
    assert published.actor == "rita" and published.details["after"]["cost"] == NEW_COST
    assert published.details["before"]["cost"] != NEW_COST


def test_a_reviewer_who_edited_the_change_cannot_approve_it(seeded, publisher) -> None:  # type: ignore[no-untyped-def]
    data, rev = _edited(seeded)
    first = service.save_draft(seeded, procedure_id=PID, data=data, base_revision=rev, actor="ana")
    second = service.save_draft(
        seeded,
        procedure_id=PID,
        data={**data, "cost": NEW_COST + " Sin recargo."},
        base_revision=first.revision,
        actor="rita",
    )
    review = service.submit_for_review(seeded, procedure_id=PID, base_revision=second.revision, actor="ana")
    with pytest.raises(SelfApprovalError):
        service.publish(seeded, procedure_id=PID, base_revision=review.revision, actor="rita", publisher=publisher)
    service.publish(seeded, procedure_id=PID, base_revision=review.revision, actor="otto", publisher=publisher)


def test_the_second_concurrent_save_is_refused_and_keeps_both_texts(seeded, sessions) -> None:  # type: ignore[no-untyped-def]
    other = sessions()  # a second editor's request, its own connection
    data, rev = _edited(seeded)
    service.save_draft(seeded, procedure_id=PID, data=data, base_revision=rev, actor="ana")
    theirs = {
        **service.get_content(other, procedure_id=PID, which="published").data,
        "cost": "Un texto distinto de costo, escrito por Bruno.",
    }
    with pytest.raises(ConflictError) as refused:
        service.save_draft(other, procedure_id=PID, data=theirs, base_revision=rev, actor="bruno")
    assert refused.value.refused == theirs
    assert refused.value.current["cost"] == NEW_COST
    assert refused.value.current_revision == rev + 1
    assert service.get_content(other, procedure_id=PID).data["cost"] == NEW_COST
    other.close()


def test_invalid_content_is_refused_with_every_field_in_spanish(seeded) -> None:  # type: ignore[no-untyped-def]
    data, rev = _edited(seeded, cost="corto")
    data["faqs"] = data["faqs"][:2]
    data["related_procedures"] = ["no-existe"]
    with pytest.raises(ValidationFailed) as failed:
        service.save_draft(seeded, procedure_id=PID, data=data, base_revision=rev, actor="ana")
    fields = {f for f, _ in failed.value.problems}
    assert {"cost", "faqs"} <= fields
    assert service.get_content(seeded, procedure_id=PID).version.number == 1  # nothing written


def test_history_diff_and_restore_through_review(seeded, publisher) -> None:  # type: ignore[no-untyped-def]
    data, rev = _edited(seeded)
    old_cost = service.get_content(seeded, procedure_id=PID).data["cost"]
    d = service.save_draft(seeded, procedure_id=PID, data=data, base_revision=rev, actor="ana")
    r = service.submit_for_review(seeded, procedure_id=PID, base_revision=d.revision, actor="ana")
    service.publish(seeded, procedure_id=PID, base_revision=r.revision, actor="rita", publisher=publisher)
    assert [(v.number, v.status) for v in service.history(seeded, procedure_id=PID)] == [
        (2, "published"),
        (1, "superseded"),
    ]
    rows = service.diff_versions(seeded, procedure_id=PID, left=1, right=2)
    changed = [row for row in rows if row.kind != "equal"]
    assert changed and all(row.left.startswith("cost:") and row.right.startswith("cost:") for row in changed)
    assert changed[0].kind == "changed" and NEW_COST in changed[0].right and old_cost.split("\n")[0] in changed[0].left
    summary = service.list_procedures(seeded, text="predial")[0]
    restored = service.restore(seeded, procedure_id=PID, number=1, base_revision=summary.revision, actor="ana")
    assert (
        restored.version.status == "draft" and restored.version.restored_from == 1 and restored.data["cost"] == old_cost
    )
    assert service.get_content(seeded, procedure_id=PID, which="published").data["cost"] == NEW_COST
    with pytest.raises(InvalidTransition):
        service.restore(seeded, procedure_id=PID, number=1, base_revision=restored.revision, actor="ana")
    r = service.submit_for_review(seeded, procedure_id=PID, base_revision=restored.revision, actor="ana")
    service.publish(seeded, procedure_id=PID, base_revision=r.revision, actor="rita", publisher=publisher)
    assert service.get_content(seeded, procedure_id=PID, which="published").data["cost"] == old_cost


def test_list_filters(seeded) -> None:  # type: ignore[no-untyped-def]
    everything = service.list_procedures(seeded)
    assert len(everything) == 5 and all(s.published_version == 1 for s in everything)
    data, rev = _edited(seeded)
    service.save_draft(seeded, procedure_id=PID, data=data, base_revision=rev, actor="ana")
    assert [s.procedure_id for s in service.list_procedures(seeded, status="draft")] == [PID]
    assert len(service.list_procedures(seeded, status="published")) == 4
    hits = service.list_procedures(seeded, text="PASAPORTE")
    assert [s.procedure_id for s in hits] == ["pasaporte-emision"]
    office = everything[0].owner_office
    assert all(s.owner_office == office for s in service.list_procedures(seeded, office=office))
    assert office in service.list_offices(seeded)
