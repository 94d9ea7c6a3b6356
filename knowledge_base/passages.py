"""Index units: every FAQ and every section of every procedure, pointing back to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from knowledge_base.schema import SECTIONS, Procedure


@dataclass(frozen=True)
class Passage:
    passage_id: str
    procedure_id: str
    kind: str  # "faq" | "section" | "imported"
    section: str  # section key, or "faq"
    label: str  # shown to citizens: "Requisitos", or the FAQ question
    text: str  # the answer shown to citizens
    embed_text: str  # what the models and BM25 see

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _section_text(procedure: Procedure, key: str) -> str:
    value = getattr(procedure, key)
    if key in ("requirements", "steps"):
        bullet = "•" if key == "requirements" else None
        return "\n".join(f"{bullet} {item}" if bullet else f"{i}. {item}" for i, item in enumerate(value, 1))
    if key == "channels":
        return f"En línea: {value.online}\nPresencial: {value.in_person}"
    if key == "offices":
        lines = []
        for office in value:
            phone = f" Tel. {office.phone}." if office.phone else ""
            lines.append(f"{office.name}: {office.address}. {office.hours}.{phone}")
        return "\n".join(lines)
    return str(value)


def procedure_passages(procedure: Procedure) -> list[Passage]:
    """Sections first, then FAQs; the procedure title is part of every embedded text."""
    passages = []
    for key, label in SECTIONS.items():
        text = _section_text(procedure, key)
        keywords = ", ".join(procedure.keywords) if key == "summary" else ""
        passages.append(
            Passage(
                passage_id=f"{procedure.id}#{key}",
                procedure_id=procedure.id,
                kind="section",
                section=key,
                label=label,
                text=text,
                embed_text=f"{procedure.title}. {label}: {text} {keywords}".strip(),
            )
        )
    for i, faq in enumerate(procedure.faqs, 1):
        passages.append(
            Passage(
                passage_id=f"{procedure.id}#faq-{i}",
                procedure_id=procedure.id,
                kind="faq",
                section="faq",
                label=faq.question,
                text=faq.answer,
                embed_text=f"{procedure.title}. {faq.question} {faq.answer}",
            )
        )
    return passages


def all_passages(procedures: Iterable[Procedure]) -> list[Passage]:
    return [p for procedure in procedures for p in procedure_passages(procedure)]
