"""Intent corrections as Rasa NLU training data, and the intents an editor may choose.

The export is a plain Rasa 3 ``nlu:`` file to review and merge into ``data/nlu/`` before
the next training; the console never trains. Questions with masked data ("[número]")
are left out: brackets are Rasa's entity syntax, and a placeholder is not what
citizens write.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

# Rasa's own intents and the ones only the system sends: not for an editor to pick.
_NOT_CHOOSABLE = frozenset({"nlu_fallback", "case_status_changed"})


def known_intents(domain_dir: Path) -> list[str]:
    """The intents of the bot's domain files, sorted (what a correction may name)."""
    found: set[str] = set()
    for path in sorted(domain_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("intents", []) if isinstance(data, dict) else []:
            name = next(iter(item)) if isinstance(item, dict) else item
            found.add(str(name))
    return sorted(found - _NOT_CHOOSABLE)


def to_rasa_yaml(examples: Sequence[tuple[str, str]]) -> str:
    """``(intent, text)`` pairs as a Rasa 3.1 NLU file, one block per intent, duplicates dropped."""
    by_intent: dict[str, list[str]] = {}
    skipped = 0
    for intent, text in examples:
        line = " ".join(text.split())
        if not line or "[" in line or "]" in line:
            skipped += 1
            continue
        items = by_intent.setdefault(intent, [])
        if line not in items:
            items.append(line)
    lines = [
        "# Intent corrections from the console (unanswered questions: intent review).",
        "# Review, then merge into data/nlu/ before the next training.",
    ]
    if skipped:
        lines.append(f"# {skipped} example(s) with masked personal data were left out.")
    lines += ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
