"""Shared channel helpers: text splitting, choices, numbered menus, payload references, retries."""

from __future__ import annotations

import asyncio

import pytest

from connectors.common.buttons import Choice, choices_from, menu_choice, numbered_menu, shorten
from connectors.common.config import ChannelConfigError, load_env_file, read_group
from connectors.common.payloads import REF_PREFIX, PayloadRefs
from connectors.common.retry import Retry, RetryPolicy, with_retries
from connectors.common.store import MemoryStore
from connectors.common.text import single_line, split_text, utf16_len
from connectors.common.typed import as_typed_text


def test_short_text_is_one_chunk() -> None:
    assert split_text("  Hola, ¿cómo está?  ", 4096) == ["Hola, ¿cómo está?"]
    assert split_text("   ", 10) == []


def test_long_text_splits_at_paragraphs_and_loses_nothing() -> None:
    paragraphs = [f"Párrafo {i}: " + "requisito importante. " * 30 for i in range(12)]
    text = "\n\n".join(paragraphs)
    chunks = split_text(text, 1500)
    assert len(chunks) > 1
    assert all(utf16_len(chunk) <= 1500 for chunk in chunks)
    # every chunk starts at a paragraph start: the split respects paragraph breaks
    assert all(chunk.startswith("Párrafo") for chunk in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_split_falls_back_to_words_then_hard_cuts() -> None:
    words = " ".join(["palabra"] * 100)
    chunks = split_text(words, 50)
    assert all(len(c) <= 50 and not c.startswith(" ") and c.split(" ")[-1] == "palabra" for c in chunks)
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_counts_emoji_as_two_units_and_never_breaks_them() -> None:
    text = "😀" * 5000
    chunks = split_text(text, 4096)
    assert [utf16_len(c) for c in chunks] == [4096, 4096, 1808]
    assert "".join(chunks) == text


def test_single_line_removes_breaks_for_template_parameters() -> None:
    assert single_line("Su trámite\n\nestá aprobado.\tGracias") == "Su trámite · está aprobado. Gracias"


def test_choices_from_rasa_buttons() -> None:
    buttons = [
        {"title": "Sí", "payload": "/affirm"},
        {"title": "", "payload": "/nada"},
        {"title": "Sin payload"},
        {"title": "Sitio", "url": "https://example.org", "type": "web_url"},
        "no es un botón",
    ]
    assert choices_from(buttons) == [Choice("Sí", "/affirm"), Choice("Sitio", "Sitio", "https://example.org")]  # type: ignore[arg-type]


def test_shorten_cuts_at_words_with_an_ellipsis() -> None:
    assert shorten("Consultar un trámite", 20) == "Consultar un trámite"
    assert shorten("Renovación de licencia de conducir", 24) == "Renovación de licencia…"
    assert len(shorten("Supercalifragilisticoespialidoso", 20)) == 20


def test_numbered_menu_and_answers() -> None:
    choices = [Choice(f"Trámite {i}", f"/p{i}") for i in range(1, 13)]
    menu = numbered_menu("¿Cuál?", choices)
    assert menu.startswith("¿Cuál?\n\n1. Trámite 1\n2. Trámite 2\n")
    assert "12. Trámite 12" in menu and "número" in menu
    titles = [c.title for c in choices]
    assert menu_choice("3", titles) == 2
    assert menu_choice(" 12. ", titles) == 11
    assert menu_choice("opción 1", titles) == 0
    assert menu_choice("trámite 5", titles) == 4  # the title itself, accents and case aside
    assert menu_choice("13", titles) is None
    assert menu_choice("0", titles) is None
    assert menu_choice("quiero el 3", titles) is None


def test_typed_text_cannot_be_an_intent() -> None:
    assert as_typed_text('/open_case{"procedure": "x"}') == 'open_case{"procedure": "x"}'
    assert as_typed_text("  //hola ") == "hola"
    assert as_typed_text("hola") == "hola"


def test_payload_references_round_trip_and_expire() -> None:
    async def scenario() -> None:
        now = [0.0]
        refs = PayloadRefs(MemoryStore(clock=lambda: now[0]), ttl=100)
        short = "/help"
        assert await refs.encode(short, 64) == short
        long = '/ask_procedure{"procedure": "licencia-conducir-renovacion", "kb_section": "requirements"}'
        token = await refs.encode(long, 64)
        assert token.startswith(REF_PREFIX) and len(token.encode()) <= 64
        assert await refs.encode(long, 64) == token  # deterministic
        assert await refs.decode(token) == long
        assert await refs.decode(short) == short
        tricky = "ref:not-a-reference"
        assert (await refs.encode(tricky, 64)).startswith(REF_PREFIX) and await refs.decode(
            await refs.encode(tricky, 64)
        ) == tricky
        now[0] = 101
        assert await refs.decode(token) is None

    asyncio.run(scenario())


def test_retries_with_backoff_then_success() -> None:
    sleeps: list[float] = []
    calls = {"n": 0}

    async def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("down")
        return "ok"

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    policy = RetryPolicy(attempts=4, base_delay=0.5)
    assert asyncio.run(with_retries(flaky, lambda e: Retry(), policy, sleep=sleep)) == "ok"
    assert calls["n"] == 3
    assert 0.5 <= sleeps[0] <= 0.625 and 1.0 <= sleeps[1] <= 1.25  # exponential, small jitter


def test_retry_after_is_honoured_or_given_up_and_final_errors_are_not_retried() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def limited() -> None:
        raise RuntimeError("429")

    with pytest.raises(RuntimeError):
        asyncio.run(with_retries(limited, lambda e: Retry(retry_after=3), RetryPolicy(attempts=2), sleep=sleep))
    assert sleeps == [3]
    sleeps.clear()
    with pytest.raises(RuntimeError):
        asyncio.run(with_retries(limited, lambda e: Retry(retry_after=300), RetryPolicy(attempts=4), sleep=sleep))
    assert sleeps == []  # a wait longer than max_retry_after: give up at once
    with pytest.raises(RuntimeError):
        asyncio.run(with_retries(limited, lambda e: None, RetryPolicy(attempts=4), sleep=sleep))
    assert sleeps == []


def test_channel_settings_all_or_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert read_group({}, "X", ["A", "B"]) is None
    assert read_group({"A": " 1 ", "B": "2"}, "X", ["A", "B"]) == {"A": "1", "B": "2"}
    with pytest.raises(ChannelConfigError, match="faltan B"):
        read_group({"A": "1"}, "X", ["A", "B"])
    env_file = tmp_path / ".env"
    env_file.write_text("# comentario\nexport A='uno'\nB=\"dos\"\nC=tres=3\n\nD\n")
    env = {"A": "ya estaba"}
    load_env_file(env_file, env)
    assert env == {"A": "ya estaba", "B": "dos", "C": "tres=3"}
