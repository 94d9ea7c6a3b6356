"""What citizens type into the form: the value is found inside the sentence, then checked."""

from __future__ import annotations

import pytest

from actions.cases import field_from_text
from actions.validators import clean_contact, clean_document, clean_name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ana pérez", "Ana Pérez"),
        ("  me llamo   ana   maría pérez ", "Ana María Pérez"),
        ("Soy Juan Carlos Gómez", "Juan Carlos Gómez"),
        ("mi nombre es María José O'Neill", "María José O'Neill"),
        ("hola, me llamo Rosa Quispe", "Rosa Quispe"),
    ],
)
def test_names(typed: str, expected: str) -> None:
    assert clean_name(typed) == expected


@pytest.mark.parametrize("typed", ["ana", "Juan Perez 123", "30123456", "", "x" * 130 + " y"])
def test_not_names(typed: str) -> None:
    assert clean_name(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Ana.Perez@Correo.com", "ana.perez@correo.com"),
        ("mi mail es ana@x.com.ar gracias", "ana@x.com.ar"),
        ("+54 9 11 5555-1234", "+5491155551234"),
        ("llamame al 099 123 456", "099123456"),
        ("(011) 4555-1234", "01145551234"),
    ],
)
def test_contacts(typed: str, expected: str) -> None:
    assert clean_contact(typed) == expected


@pytest.mark.parametrize("typed", ["hola", "2026", "ana@", "12345", "no tengo"])
def test_not_contacts(typed: str) -> None:
    assert clean_contact(typed) is None


def test_generic_documents_inside_sentences() -> None:
    assert clean_document("mi dni es 30.123.456") == "30123456"
    assert clean_document("es la V-20.123.456") == "V20123456"
    assert clean_document("30 123 456") == "30123456"
    # The document, not the phone number said after it.
    assert clean_document("dni 30123456 y mi tel 11 5555") == "30123456"
    assert clean_document("no me acuerdo") is None
    assert clean_document("12") is None


@pytest.mark.parametrize(
    ("phrase", "field"),
    [
        ("el mail está mal", "contact"),
        ("me equivoqué en el teléfono", "contact"),
        ("corregir el DNI", "document_number"),
        ("la cédula", "document_number"),
        ("escribí mal mi apellido", "full_name"),
        ("me equivoqué de trámite", "procedure"),
        ("contact", "contact"),
        ("full_name", "full_name"),
        ("quiero corregir algo", None),
    ],
)
def test_which_field_a_correction_names(phrase: str, field: str | None) -> None:
    assert field_from_text(phrase) == field
