"""What a question asks about (cost, time, place, requirements, steps, online), from its words.

The procedure is chosen by the search; within it, the passage to show should answer
the question's aspect: to "¿cuánto sale el pasaporte?" the cost, not the FAQ about
tracking the passport, even when that FAQ is a little closer in meaning. Passages
carry an aspect too: a section by its key, a FAQ by the words of its question.
"""

from __future__ import annotations

import re

from textnorm import plain

# Checked in this order; the first that matches wins.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (aspect, re.compile(pattern))
    for aspect, pattern in (
        (
            "processing_time",
            r"\b(cuanto (tiempo|tarda|demora)|cuantos dias|cuanto se tarda|tarda|demora|plazo|"
            r"cuando (me lo dan|esta listo|sale|llega))\b",
        ),
        (
            "cost",
            r"\b(cuanto (sale|cuesta|cobran|vale|hay que pagar|se paga)|precio|costo|cuesta|arancel|"
            r"gratis|gratuit[oa]s?|sale caro|cobran)\b",
        ),
        (
            "requirements",
            r"\b(que (necesito|papeles|documentos|piden|llevo|hace falta)|requisitos?|papeles|documentacion)\b",
        ),
        ("steps", r"\b(como (hago|se hace|saco|tramito|pido|me anoto|solicito)|pasos|procedimiento)\b"),
        # "dirección" is left out: it is as often the citizen's own address as the office's.
        (
            "offices",
            r"\b(donde (queda|esta|estan|atienden|es la oficina)|horarios?|a que hora|que hora (abre|cierra)|"
            r"oficinas?|sede|telefono)\b",
        ),
        ("channels", r"\b(online|on line|internet|en linea|por la web|pagina web|virtual|sin ir|desde (mi )?casa)\b"),
    )
)
ASPECTS = tuple(aspect for aspect, _ in _CUES)


def aspect_of(text: str) -> str | None:
    """The first aspect whose cue appears in ``text`` (accents and case ignored), or None."""
    folded = plain(text)
    for aspect, pattern in _CUES:
        if pattern.search(folded):
            return aspect
    return None


def passage_aspect(section: str, label: str) -> str | None:
    """A section's aspect is its key; a FAQ's is the aspect of its question."""
    if section in ASPECTS:
        return section
    if section == "faq":
        return aspect_of(label)
    return None
