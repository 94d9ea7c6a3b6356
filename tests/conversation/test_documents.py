"""Country document profiles: valid numbers pass, a changed digit or letter fails."""

from __future__ import annotations

import pytest

from actions.documents import PROFILES, UnknownProfile, cuit_check_digit, document_hint, validate_document
from actions.validators import clean_document

VALID = {
    "generic": ["30123456", "AB123456", "X1234567L", "123456"],
    # AR: DNI (format only, it has no check digit) and CUIL/CUIT (AFIP's own CUIT: 33-69345023-9).
    "ar": ["30123456", "4567890", "33693450239", "20123456786"],
    "cl": ["123456785", "111111111", "10000013K"],
    "mx": ["BOXW310820HNERXN09"],
    "co": ["1023456789", "79456123", "123456"],
    # PE: 8 digits alone, or with the check digit or the check letter of the card.
    "pe": ["10117410", "101174102", "10117410G"],
    "uy": ["12345672", "35678907", "4567890"],
    "es": ["12345678Z", "00000000T", "X1234567L", "Y1234567X", "Z1234567R"],
}
INVALID = {
    "generic": ["12345", "1234567890123", "ABC"],
    "ar": ["123456", "999999", "33693450238", "12123456786", "301234567"],
    "cl": ["123456784", "76086428", "12345678K", "999995"],
    "mx": ["BOXW310820HNERXN08", "BOXW311320HNERXN09", "BOXW310820HXXRXN09", "BOXW310820"],
    "co": ["0123456", "12345", "12345678901", "12A456789"],
    "pe": ["1011741", "101174103", "10117410K", "A0117410"],
    "uy": ["12345671", "123", "123456789"],
    "es": ["12345678A", "X1234567A", "W1234567L", "1234567Z"],
}


@pytest.mark.parametrize(("profile", "number"), [(p, n) for p, ns in VALID.items() for n in ns])
def test_valid_numbers_pass(profile: str, number: str) -> None:
    assert validate_document(profile, number), f"{number} should be valid for {profile}"


@pytest.mark.parametrize(("profile", "number"), [(p, n) for p, ns in INVALID.items() for n in ns])
def test_invalid_numbers_fail(profile: str, number: str) -> None:
    assert not validate_document(profile, number), f"{number} should be invalid for {profile}"


def test_every_profile_is_covered_by_both_lists() -> None:
    assert set(VALID) == set(INVALID) == set(PROFILES)


@pytest.mark.parametrize(
    ("profile", "typed", "stored"),
    [
        ("cl", "12.345.678-5", "123456785"),
        ("uy", "1.234.567-2", "12345672"),
        ("ar", "mi dni es 30.123.456", "30123456"),
        ("ar", "20-12345678-6", "20123456786"),
        ("es", "x-1234567-l", "X1234567L"),
        ("pe", "10117410-2", "101174102"),
        ("mx", "curp boxw310820hnerxn09", "BOXW310820HNERXN09"),
        ("generic", "30 123 456", "30123456"),
    ],
)
def test_numbers_as_citizens_type_them_are_normalised(profile: str, typed: str, stored: str) -> None:
    assert clean_document(typed, profile) == stored


def test_a_mistyped_check_digit_is_caught_while_typing() -> None:
    assert clean_document("12.345.678-4", "cl") is None
    assert clean_document("1.234.567-3", "uy") is None


def test_cuit_remainder_one_has_no_check_digit() -> None:
    # Such numbers do not exist with that prefix: no digit can validate them.
    prefix = next(f"20{n:08d}" for n in range(10**6, 10**6 + 200) if cuit_check_digit(f"20{n:08d}") is None)
    assert all(not validate_document("ar", prefix + str(d)) for d in range(10))


def test_unknown_profile_is_a_configuration_error() -> None:
    with pytest.raises(UnknownProfile):
        validate_document("zz", "12345678")


def test_each_profile_tells_the_citizen_what_to_type() -> None:
    for profile in PROFILES:
        assert document_hint(profile)
    assert "RUN" in document_hint("cl") and "CURP" in document_hint("mx")
