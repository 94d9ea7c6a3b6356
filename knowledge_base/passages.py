"""Index units: every FAQ and every section of every procedure, pointing back to it.

What citizens see (``label``, ``text``) and what the models see (``embed_text``)
differ on purpose. The embedded text starts with the procedure's title and its
keywords, so a passage about "Costo" still says which procedure it costs for,
and the regional names staff put in ``keywords`` reach every passage. Each FAQ
is indexed twice: question + answer, and the question alone, because citizens'
questions look like FAQ questions far more than like answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from knowledge_base.schema import SECTIONS, Procedure

KINDS = ("section", "faq", "faq_question", "imported")


@dataclass(frozen=True)
class Passage:
    passage_id: str
    procedure_id: str  # the procedure (or imported document) it belongs to
    kind: str  # one of KINDS
    section: str  # section key ("cost", "requirements"...), "faq", or "imported"
    label: str  # shown to citizens: "Requisitos", or the FAQ question
    text: str  # the answer shown to citizens
    embed_text: str  # what the models and BM25 see

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _section_text(procedure: Procedure, key: str) -> str:
    value = getattr(procedure, key)
    if key == "requirements":
        return "\n".join(f"• {item}" for item in value)
    if key == "steps":
        return "\n".join(f"{i}. {item}" for i, item in enumerate(value, 1))
    if key == "channels":
        return f"En línea: {value.online}\nPresencial: {value.in_person}"
    if key == "offices":
        lines = []
        for office in value:
            phone = f" Tel. {office.phone}." if office.phone else ""
            lines.append(f"{office.name}: {office.address}. {office.hours}.{phone}")
        return "\n".join(lines)
    return str(value)


def heading(procedure: Procedure) -> str:
    """Title and keywords: the start of every embedded text of the procedure."""
    if procedure.keywords:
        return f"{procedure.title} ({', '.join(procedure.keywords)})"
    return procedure.title


def procedure_passages(procedure: Procedure) -> list[Passage]:
    """Sections first, then FAQs (question + answer, and question alone)."""
    head = heading(procedure)
    passages = []
    for key, label in SECTIONS.items():
        text = _section_text(procedure, key)
        passages.append(
            Passage(
                passage_id=f"{procedure.id}#{key}",
                procedure_id=procedure.id,
                kind="section",
                section=key,
                label=label,
                text=text,
                embed_text=f"{head}. {label}: {text}",
            )
        )
    for i, faq in enumerate(procedure.faqs, 1):
        variants = [
            ("faq", "", f"{head}. {faq.question} {faq.answer}"),
            ("faq_question", "-q", f"{head}. {faq.question}"),
        ]
        variants += [("faq_question", f"-p{j}", f"{head}. {p}") for j, p in enumerate(faq.paraphrases, 1) if p.strip()]
        for kind, suffix, embed_text in variants:
            passages.append(
                Passage(
                    passage_id=f"{procedure.id}#faq-{i}{suffix}",
                    procedure_id=procedure.id,
                    kind=kind,
                    section="faq",
                    label=faq.question,
                    text=faq.answer,
                    embed_text=embed_text,
                )
            )
    return passages


def all_passages(procedures: Iterable[Procedure]) -> list[Passage]:
    return [p for procedure in procedures for p in procedure_passages(procedure)]
