"""Input generators shared by the fuzz tests (hypothesis strategies) and the checks on replies.

The inputs citizens, broken clients and attackers send: any unicode, emoji and
right-to-left text, control characters, injection strings (HTML/JS, SQL, template,
format strings, path traversal), 64 KB bodies, malformed JSON and JSON of the wrong
shape, and wrong content types.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

INJECTIONS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<b>negrita</b> <a href='javascript:alert(1)'>clic</a>",
    "[clic](javascript:alert(1))",
    "' OR '1'='1' --",
    '"; DROP TABLE cases; --',
    "{{7*7}} ${7*7} #{7*7}",
    "${jndi:ldap://ejemplo.invalid/a}",
    "%s%s%s%n%x",
    "../../../../etc/passwd",
    "\u202egnp.exe",
    "مرحبا، أريد جواز سفر",
    "שלום, אני צריך דרכון",
    "👩‍👩‍👧‍👦🇦🇷🧉 ¿pasaporte? 🙏🏽",
    "\x00\x01\x02\x1b[31mrojo\x1b[0m\x7f",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "/restart",
    '/inform{"document_number": "30123456"}',
    "null",
    "A" * 3000,
]
MARKUP = ("<script", "<img", "javascript:", "onerror=", "<a href")
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "",
]

texts = st.one_of(
    st.text(max_size=200),
    st.sampled_from(INJECTIONS),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co"]), max_size=40),
    st.builds(lambda a, b: a + " " + b, st.sampled_from(INJECTIONS), st.text(max_size=60)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def body_of(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


malformed_bodies = st.one_of(
    st.binary(max_size=400),
    st.builds(body_of, json_values),
    st.sampled_from([b"", b"null", b"[]", b"{}", b'{"sender": null}', b"{", b'{"message": "hola"}', b"\xff\xfe"]),
    st.builds(lambda t: t.encode("utf-8", "surrogatepass"), st.text(max_size=200)),
    st.just(b"x" * 65_536),
    st.just(body_of({"sender": "fuzz", "message": "a" * 65_000})),
)


def echoed_markup(sent: str, replies: str) -> list[str]:
    """Markup from the input that a reply repeats as is (the widget would render it)."""
    sent, replies = sent.lower(), replies.lower()
    return [marker for marker in MARKUP if marker in sent and marker in replies]
