"""Pydantic schema of one procedure file (``knowledge_base/content/<id>.yml``).

Staff edit these files by hand, so the schema is strict (unknown fields are refused,
they are usually typos) and its error messages name the field.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Faq(Strict):
    question: str = Field(min_length=8)
    answer: str = Field(min_length=20)
    # Other ways citizens asked it (the console's unanswered inbox adds them): searched, never shown.
    paraphrases: list[str] = Field(default_factory=list)


class Office(Strict):
    name: str
    address: str
    hours: str
    phone: str | None = None


class Channels(Strict):
    online: str = Field(min_length=10)
    in_person: str = Field(min_length=10)


class Procedure(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=5)
    summary: str = Field(min_length=40)
    owner_office: str
    last_reviewed: date
    source_url: HttpUrl
    keywords: list[str] = Field(default_factory=list)
    who_can_apply: str = Field(min_length=20)
    requirements: list[str] = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    cost: str = Field(min_length=10)
    processing_time: str = Field(min_length=10)
    channels: Channels
    offices: list[Office] = Field(min_length=1)
    legal_basis: str = Field(min_length=10)
    related_procedures: list[str] = Field(default_factory=list)
    faqs: list[Faq] = Field(min_length=5)

    @field_validator("requirements", "steps", "keywords")
    @classmethod
    def _no_empty_items(cls, items: list[str]) -> list[str]:
        if any(not item.strip() for item in items):
            raise ValueError("contiene un elemento vacío")
        return items


# Sections of a procedure that become search passages, with the label shown to citizens.
SECTIONS: dict[str, str] = {
    "summary": "Qué es",
    "who_can_apply": "Quién puede hacerlo",
    "requirements": "Requisitos",
    "steps": "Cómo se hace",
    "cost": "Costo",
    "processing_time": "Plazo",
    "channels": "Dónde hacerlo",
    "offices": "Oficinas y horarios",
    "legal_basis": "Normativa",
}
