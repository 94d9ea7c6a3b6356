"""Identity document rules by country (``VENTANILLA_DOCUMENT_PROFILE``).

Why per country: a wrong digit in a document number means the citizen can never
verify their case later, so where the document has a check digit we check it
while they are still in the chat. Every profile receives the number already
normalised (upper-case letters and digits only, see ``backend.hashing``).

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
from datetime import date

GENERIC_RE = re.compile(r"^[0-9A-Z]{6,12}$")


class UnknownProfile(ValueError):
    """The configured document profile does not exist (a configuration error)."""


def _generic(value: str) -> bool:
    return bool(GENERIC_RE.match(value))


# --- Argentina -----------------------------------------------------------------------
_CUIT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_CUIT_PREFIXES = {"20", "23", "24", "25", "26", "27", "30", "33", "34"}


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
    if value.isdigit() and len(value) == 11 and value[:2] in _CUIT_PREFIXES:
        return cuit_check_digit(value[:10]) == int(value[10])
    return False


# --- Chile ---------------------------------------------------------------------------
def rut_check_digit(body: str) -> str:
    total = 0
    for i, digit in enumerate(reversed(body)):
        total += int(digit) * (2 + i % 6)
    result = 11 - total % 11
    return {11: "0", 10: "K"}.get(result, str(result))


def valid_cl(value: str) -> bool:
    body, check = value[:-1], value[-1:]
    if not body.isdigit() or not (7 <= len(body) <= 8) or int(body) < 1_000_000:
        return False
    return rut_check_digit(body) == check


# --- Mexico --------------------------------------------------------------------------
_CURP_RE = re.compile(r"^[A-Z]{4}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d$")
_CURP_STATES = set(
    "AS BC BS CC CH CL CM CS DF DG GR GT HG JC MC MN MS NE NL NT OC PL QR QT SL SP SR TC TL TS VZ YN ZS".split()
)
# The official table has Ñ between N and O; normalised input never contains Ñ, but the
# position of every later letter depends on it.
_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMN\x00OPQRSTUVWXYZ"


def curp_check_digit(first_seventeen: str) -> str:
    total = sum(_CURP_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first_seventeen))
    return str((10 - total % 10) % 10)


def valid_mx(value: str) -> bool:
    if not _CURP_RE.match(value) or value[11:13] not in _CURP_STATES:
        return False
    # Position 17 is a digit for people born in the 1900s and a letter from 2000 on.
    century = 1900 if value[16].isdigit() else 2000
    try:
        date(century + int(value[4:6]), int(value[6:8]), int(value[8:10]))
    except ValueError:
        return False
    return curp_check_digit(value[:17]) == value[17]


# --- Colombia ------------------------------------------------------------------------
def valid_co(value: str) -> bool:
    return value.isdigit() and 6 <= len(value) <= 10 and value[0] != "0"


# --- Peru ----------------------------------------------------------------------------
_PE_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def pe_check_characters(dni: str) -> tuple[str, str]:
    """The two accepted check characters of a Peruvian DNI: (digit, letter)."""
    remainder = sum(int(d) * w for d, w in zip(dni, _PE_WEIGHTS, strict=True)) % 11
    return "65432110987"[remainder], "KJIHGFEDCBA"[remainder]


def valid_pe(value: str) -> bool:
    if len(value) == 8:
        return value.isdigit()
    if len(value) == 9 and value[:8].isdigit():
        return value[8] in pe_check_characters(value[:8])
    return False


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
_ES_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI_RE = re.compile(r"^\d{8}[A-Z]$")
_NIE_RE = re.compile(r"^[XYZ]\d{7}[A-Z]$")


def es_control_letter(number: int) -> str:
    return _ES_LETTERS[number % 23]


def valid_es(value: str) -> bool:
    if _DNI_RE.match(value):
        return es_control_letter(int(value[:8])) == value[8]
    if _NIE_RE.match(value):
        number = int(str("XYZ".index(value[0])) + value[1:8])
        return es_control_letter(number) == value[8]
    return False


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
