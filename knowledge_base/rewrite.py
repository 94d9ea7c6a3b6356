"""Rewriting citizens' questions before searching: SMS spellings and regional words.

Citizens write "q", "x", "pa" and use words from all over the region ("brevete",
"cédula", "chamba", "banqueta") that the content, written in neutral Spanish,
does not use. Staff keep the list in ``knowledge_base/synonyms.yml``:

* ``abbreviations`` replace a whole word ("q" -> "que");
* ``synonyms`` keep the citizen's words and append the content's word in
  parentheses ("sacar el brevete" -> "sacar el brevete (licencia de conducir)"),
  so both the embedding model and BM25 see the vocabulary of the content.

The rules are copied into every index version at build time, so a search always
uses the rules its index was built with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from textnorm import spaced_key

_WORD = re.compile(r"\w+|\W+")


def _key(text: str) -> str:
    return spaced_key(text)


@dataclass(frozen=True)
class QueryRewriter:
    abbreviations: dict[str, str] = field(default_factory=dict)  # lower-case word -> replacement
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (content word, folded variants)

    @cached_property
    def _patterns(self) -> list[tuple[str, str, re.Pattern[str]]]:
        return [
            (
                canonical,
                _key(canonical),
                re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in variants) + r")(?!\w)"),
            )
            for canonical, variants in self.synonyms
            if variants
        ]

    def rewrite(self, query: str) -> str:
        """The question with abbreviations expanded and content words appended."""
        if self.abbreviations:
            query = "".join(
                self.abbreviations.get(part.lower(), part) if part[:1].isalnum() else part
                for part in _WORD.findall(query)
            )
        folded = f" {_key(query)} "
        added = [
            canonical for canonical, key, pattern in self._patterns if key not in folded and pattern.search(folded)
        ]
        return f"{query} ({', '.join(added)})" if added else query

    def to_dict(self) -> dict[str, Any]:
        return {"abbreviations": self.abbreviations, "synonyms": [[c, list(v)] for c, v in self.synonyms]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryRewriter:
        return cls(
            dict(data.get("abbreviations", {})),
            tuple((str(c), tuple(v)) for c, v in data.get("synonyms", [])),
        )


def parse_rules(raw: object, source: str) -> tuple[QueryRewriter, list[tuple[str, str]]]:
    """Builds the rewriter from the YAML structure; returns it with (field, message) problems."""
    problems: list[tuple[str, str]] = []
    if raw is None:
        return QueryRewriter(), problems
    if not isinstance(raw, dict):
        return QueryRewriter(), [("(archivo)", "debe ser un mapa con 'abbreviations' y 'synonyms'")]
    for key in raw:
        if key not in ("abbreviations", "synonyms"):
            problems.append((str(key), "campo desconocido (se esperan 'abbreviations' y 'synonyms')"))
    abbreviations: dict[str, str] = {}
    synonyms: list[tuple[str, tuple[str, ...]]] = []
    seen: dict[str, str] = {}
    for section in ("abbreviations", "synonyms"):
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            problems.append((section, "debe ser un mapa 'palabra: [variantes]'"))
            continue
        for canonical, variants in entries.items():
            where = f"{section}.{canonical}"
            if (
                not isinstance(variants, list)
                or not variants
                or not all(isinstance(v, str) and v.strip() for v in variants)
            ):
                problems.append((where, "debe ser una lista no vacía de palabras"))
                continue
            folded = tuple(_key(v) for v in variants)
            for variant in folded:
                if variant in seen and seen[variant] != where:
                    problems.append((where, f"'{variant}' ya aparece en {seen[variant]}"))
                seen[variant] = where
            if section == "abbreviations":
                for variant in variants:
                    word = variant.strip().lower()
                    if not re.fullmatch(r"\w+", word):
                        problems.append((where, f"'{variant}': una abreviatura es una sola palabra"))
                    abbreviations[word] = str(canonical)
            else:
                synonyms.append((str(canonical), folded))
    return QueryRewriter(abbreviations, tuple(synonyms)), problems


def load_rules(path: Path) -> tuple[QueryRewriter, list[tuple[str, str]]]:
    """Reads ``synonyms.yml``; a missing file means no rewriting."""
    if not path.exists():
        return QueryRewriter(), []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return QueryRewriter(), [("(yaml)", f"no se puede leer: {exc}".replace("\n", " "))]
    return parse_rules(raw, path.name)
