"""Identity document rules by country (``VENTANILLA_DOCUMENT_PROFILE``).

Why per country: a wrong digit in a document number means the citizen can never
verify their case later, so where the document has a check digit we check it
while they are still in the chat. Every profile receives the number already
normalised (upper-case letters and digits only, see ``backend.hashing``).
Check digits come from python-stdnum (ar CUIL/CUIT, cl, mx, pe, es); our own code covers
only what it lacks: the DNI ranges, Colombia's cédula (no check digit) and Uruguay's
cédula (not in python-stdnum).

Profiles:

- ``generic``: 6 to 12 letters or digits (the default; no country assumed).
- ``ar``: DNI (7-8 digits; the DNI has no check digit, so only its format and
  range are checked) or CUIL/CUIT (11 digits, modulo-11 check digit).
- ``cl``: RUN/RUT (body + check digit 0-9 or K, modulo 11).
- ``mx``: CURP (18 characters: structure, birth date, state and check digit).
- ``co``: cédula de ciudadanía (6-10 digits; it has no check digit).
- ``pe``: DNI (8 digits, optionally followed by its check character, which is
  then verified; it may be a digit or a letter).
- ``uy``: cédula de identidad (6-7 digits + check digit, weights 2987634).
- ``es``: DNI (8 digits + control letter) or NIE (X/Y/Z + 7 digits + letter).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum.ar import cuit as stdnum_cuit
from stdnum.cl import rut as stdnum_rut
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie
from stdnum.mx import curp as stdnum_curp
from stdnum.pe import cui as stdnum_cui

GENERIC_RE = re.compile(r"^[0-9A-Z]{6,12}$")


class UnknownProfile(ValueError):
    """The configured document profile does not exist (a configuration error)."""


def _generic(value: str) -> bool:
    return bool(GENERIC_RE.match(value))


# --- Argentina -----------------------------------------------------------------------
_CUIT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def cuit_check_digit(first_ten: str) -> int | None:
    """Check digit of a CUIL/CUIT, or None when the number cannot have one (remainder 1)."""
    remainder = sum(int(d) * w for d, w in zip(first_ten, _CUIT_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None  # such numbers are issued with another prefix instead
    return 11 - remainder


def valid_ar(value: str) -> bool:
    if value.isdigit() and len(value) in (7, 8):
        return int(value) >= 1_000_000
    # python-stdnum checks the CUIL/CUIT's type prefix and check digit; it accepts a 9 for the
    # numbers whose remainder is 1, which are never issued with that prefix.
    return stdnum_cuit.is_valid(value) and cuit_check_digit(value[:10]) is not None


# --- Chile ---------------------------------------------------------------------------
def valid_cl(value: str) -> bool:
    body = value[:-1]
    if not body.isdigit() or not (7 <= len(body) <= 8) or int(body) < 1_000_000:
        return False
    return stdnum_rut.is_valid(value)


# --- Mexico --------------------------------------------------------------------------
def valid_mx(value: str) -> bool:
    """python-stdnum checks the structure, birth date, state and check digit."""
    return stdnum_curp.is_valid(value)


# --- Colombia ------------------------------------------------------------------------
def valid_co(value: str) -> bool:
    return value.isdigit() and 6 <= len(value) <= 10 and value[0] != "0"


# --- Peru ----------------------------------------------------------------------------
def valid_pe(value: str) -> bool:
    """8 digits, or 9 with the check character (a digit or a letter) that python-stdnum verifies."""
    return stdnum_cui.is_valid(value)


# --- Uruguay -------------------------------------------------------------------------
_UY_WEIGHTS = (2, 9, 8, 7, 6, 3, 4)


def uy_check_digit(body: str) -> str:
    padded = body.zfill(7)
    total = sum(int(d) * w for d, w in zip(padded, _UY_WEIGHTS, strict=True))
    return str((10 - total % 10) % 10)


def valid_uy(value: str) -> bool:
    if not value.isdigit() or not (7 <= len(value) <= 8):
        return False
    return uy_check_digit(value[:-1]) == value[-1]


# --- Spain ---------------------------------------------------------------------------
def valid_es(value: str) -> bool:
    return stdnum_dni.is_valid(value) or stdnum_nie.is_valid(value)


PROFILES: dict[str, Callable[[str], bool]] = {
    "generic": _generic,
    "ar": valid_ar,
    "cl": valid_cl,
    "mx": valid_mx,
    "co": valid_co,
    "pe": valid_pe,
    "uy": valid_uy,
    "es": valid_es,
}

# What the citizen is told when a number does not pass (domain response variables).
EXAMPLES: dict[str, str] = {
    "generic": "de 6 a 12 letras o números",
    "ar": "su DNI (por ejemplo 30.123.456) o su CUIL",
    "cl": "su RUN con dígito verificador (por ejemplo 12.345.678-5)",
    "mx": "su CURP de 18 caracteres",
    "co": "su número de cédula (de 6 a 10 dígitos)",
    "pe": "su DNI de 8 dígitos",
    "uy": "su cédula con dígito verificador (por ejemplo 1.234.567-2)",
    "es": "su DNI o NIE con la letra (por ejemplo 12345678Z)",
}


def profile_rule(profile: str) -> Callable[[str], bool]:
    try:
        return PROFILES[profile.strip().lower()]
    except KeyError:
        raise UnknownProfile(
            f"Unknown document profile {profile!r}; use one of: {', '.join(sorted(PROFILES))}"
        ) from None


def validate_document(profile: str, normalized: str) -> bool:
    """True when the normalised number is valid for the profile."""
    return profile_rule(profile)(normalized)


def document_hint(profile: str) -> str:
    return EXAMPLES.get(profile.strip().lower(), EXAMPLES["generic"])
