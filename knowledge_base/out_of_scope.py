"""Topics the agency does not handle (``knowledge_base/out_of_scope.yml``).

They are embedded with the passages into every index version. At search time the
best similarity of the question to any of them is subtracted from the best
procedure's score: "¿cómo saco la licencia de pesca?" shares words with the
driving licence, but it is closer to "licenses the municipality does not issue".
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class OutOfScopeTopic(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    topic: str = Field(min_length=10)
    keywords: list[str] = Field(default_factory=list)

    def embed_text(self) -> str:
        return f"{self.topic}. {', '.join(self.keywords)}".strip(" .") if self.keywords else self.topic


def load_topics(path: Path) -> tuple[list[OutOfScopeTopic], list[tuple[str, str]]]:
    """Valid topics and (field, message) problems; a missing file means no topics."""
    if not path.exists():
        return [], []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [], [("(yaml)", f"no se puede leer: {exc}".replace("\n", " "))]
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [("(archivo)", "debe ser una lista de temas con 'topic' y 'keywords'")]
    topics: list[OutOfScopeTopic] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        try:
            topic = OutOfScopeTopic.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in (i, *error["loc"]))
                problems.append((field, error["msg"]))
            continue
        key = topic.topic.casefold()
        if key in seen:
            problems.append((f"{i}.topic", f"tema repetido: {topic.topic}"))
        seen.add(key)
        topics.append(topic)
    return topics, problems
