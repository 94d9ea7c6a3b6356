"""Regular expressions for shapes of text that several modules recognise (e-mail addresses)."""

from __future__ import annotations

import re

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

# A whole answer that is an e-mail address (the contact field of the case form).
EMAIL_RE = re.compile(rf"^{_EMAIL}$")
# An e-mail address anywhere in a text (to pick it out of a sentence, or to redact it).
EMAIL_IN_TEXT_RE = re.compile(_EMAIL)
