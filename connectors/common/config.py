"""Reading a channel's group of ``VENTANILLA_*`` settings from the environment.

A channel is configured when its required settings are present; setting only some
of them is a mistake that must stop start-up with a clear message, rather than
leave the channel silently unmounted (or mounted without its secret).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path


class ChannelConfigError(ValueError):
    """A channel is partly configured, or one of its settings is invalid."""


def read_group(env: Mapping[str, str], channel: str, required: Sequence[str]) -> dict[str, str] | None:
    """The required settings (stripped), None when none is set; raises when some are missing."""
    values = {name: (env.get(name) or "").strip() for name in required}
    present = [name for name, value in values.items() if value]
    if not present:
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ChannelConfigError(
            f"{channel}: faltan {', '.join(missing)} (están definidas {', '.join(present)}). "
            f"Defina todas para activar el canal, o ninguna para desactivarlo; vea .env.example."
        )
    return values


def load_env_file(path: os.PathLike[str] | str, env: dict[str, str] | None = None) -> None:
    """Reads ``KEY=value`` lines of a ``.env`` file into ``env`` (default ``os.environ``).

    For the console commands, which run in the Rasa environment where python-dotenv is
    not installed. Variables already set win; comments, blank lines and ``export``
    prefixes are understood, and matching quotes around a value are removed.
    """
    target = os.environ if env is None else env
    file = Path(path)
    if not file.is_file():
        return
    for line in file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key and key not in target:
            target[key] = value
