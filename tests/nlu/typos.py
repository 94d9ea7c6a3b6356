"""Deterministic typos, the way people type on a phone: a dropped, swapped, doubled or
mistyped (neighbouring key) letter, or the accents left out.

Used for the evaluation's copy of the held-out split with typos
(``tests/nlu/test_nlu_eval.py``). Training on typo'd copies of the training examples
made by the same generator was tried and did not help (tests/nlu/RESULTS.md).
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import yaml

# Spanish keyboard neighbours (lower case) for substitution typos.
_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok", "o": "ipl",
    "p": "oñ", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv", "g": "fhtb", "h": "gjyn", "j": "hkum",
    "k": "jli", "l": "kñp", "ñ": "lp", "z": "asx", "x": "zsc", "c": "xdv", "v": "cfb", "b": "vgn", "n": "bhm",
    "m": "nj",
}  # fmt: skip
# Annotated spans: [text](entity) or [text]{"entity": ...}.
_SPAN_RE = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
# Entities whose text must stay exact (a mistyped case code is a different code).
_KEEP_EXACT = ("case_code", "email", "phone", "document_number")


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def typo(word: str, rng: random.Random) -> str:
    """One realistic typo in a word of at least 4 letters."""
    if _strip_accents(word) != word and rng.random() < 0.5:
        return _strip_accents(word)
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("drop", "swap", "double", "neighbour"))
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    neighbours = _NEIGHBOURS.get(word[i].lower())
    return word[:i] + rng.choice(neighbours) + word[i + 1 :] if neighbours else word[:i] + word[i + 1 :]


def _typo_words(text: str, rng: random.Random, rate: float) -> tuple[str, int]:
    words = text.split(" ")
    chosen = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha() and rng.random() < rate]
    for i in chosen:
        words[i] = typo(words[i], rng)
    return " ".join(words), len(chosen)


def with_typos(example: str, rng: random.Random, rate: float = 0.3) -> str:
    """The example with typos in its plain words and procedure names; annotations kept valid.

    Every example with a word of 4+ letters gets at least one typo.
    """
    out: list[str] = []
    position = 0
    typos = 0
    for match in _SPAN_RE.finditer(example):
        plain, n = _typo_words(example[position : match.start()], rng, rate)
        out.append(plain)
        typos += n
        span_text, annotation = match.group(1), match.group(2)
        if not any(kind in annotation for kind in _KEEP_EXACT):
            span_text, n = _typo_words(span_text, rng, rate)
            typos += n
        out.append(f"[{span_text}]{annotation}")
        position = match.end()
    plain, n = _typo_words(example[position:], rng, rate)
    out.append(plain)
    typos += n
    result = "".join(out)
    if typos == 0:
        words = result.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if candidates:
            i = rng.choice(candidates)
            words[i] = typo(words[i], rng)
            result = " ".join(words)
    return result


def _intent_examples(path: Path) -> list[tuple[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    blocks = []
    for block in data.get("nlu", []):
        if "intent" in block:
            examples = [line.strip()[2:] for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            blocks.append((block["intent"], examples))
    return blocks


def _dump(blocks: list[tuple[str, list[str]]], header: str) -> str:
    lines = [header, 'version: "3.1"', "nlu:"]
    for intent, examples in blocks:
        if examples:
            lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {e}" for e in examples]
    return "\n".join(lines) + "\n"


def typo_copy(source: Path, seed: int) -> str:
    """Every example of ``source`` with typos (the evaluation's noisy test split)."""
    rng = random.Random(seed)
    blocks = [(intent, [with_typos(e, rng) for e in examples]) for intent, examples in _intent_examples(source)]
    return _dump(blocks, "# Generated from a held-out split with typos injected (tests/nlu/typos.py).")
