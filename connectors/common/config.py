"""Reading a channel's group of ``VENTANILLA_*`` settings from the environment.

A channel is configured when its required settings are present; setting only some
of them is a mistake that must stop start-up with a clear message, rather than
leave the channel silently unmounted (or mounted without its secret).
"""

from __future__ import annotations

from typing import Mapping, Sequence


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
