"""Text normalisation shared by every part of Ventanilla: accents, case and spacing.

Spanish-speaking citizens write with and without accents ("trámite", "tramite"), so
matching compares accent-free text. This package is standard library only and runs on
Python 3.10 too: the channel connectors import it inside Rasa's environment.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold_accents", "nfc", "plain", "spaced_key"]


def fold_accents(text: str) -> str:
    """The text without accents or other combining marks ("Pérez" -> "Perez"); case is kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def plain(text: str) -> str:
    """Lower case and accent-free: the form keyword matching works on ("Cédula" -> "cedula")."""
    return fold_accents(text.lower())


def spaced_key(text: str) -> str:
    """Case-folded, accent-free, single-spaced: compares what a citizen typed with a title."""
    return " ".join(fold_accents(text.casefold()).split())


def nfc(text: str) -> str:
    """Composed form (NFC): one code point per accented letter, as stored and compared."""
    return unicodedata.normalize("NFC", text)
