"""What ``kb import`` reads a file into: entries (one FAQ or one document chunk) and the
problems found on the way, each with file and line."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

import textnorm


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int  # 0: the whole file
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class ImportFailed(ValueError):
    """Raised with every problem of a file; nothing is written when it is raised."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n... y {len(problems) - 50} problema(s) más" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problema(s) en la importación:\n{shown}{more}")


@dataclass(frozen=True)
class Entry:
    """One normalised imported unit: a frequent question, or a chunk of a document."""

    id: str
    kind: str  # "faq" | "chunk"
    question: str  # the FAQ question, or the heading of the chunk ("" if none)
    answer: str  # the text shown to citizens
    title: str  # the document's title ("" for a FAQ that belongs to a procedure)
    procedure_id: str  # "" when it is not attached to a procedure
    source_url: str
    last_reviewed: str  # ISO date
    line: int = 0  # where it came from, for error messages (not stored)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("line")
        return json.dumps(data, ensure_ascii=False)

    def comparable(self) -> tuple[str, ...]:
        return (
            self.kind,
            self.question,
            self.answer,
            self.title,
            self.procedure_id,
            self.source_url,
            self.last_reviewed,
        )


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", textnorm.plain(text)).strip("-") or "documento"
