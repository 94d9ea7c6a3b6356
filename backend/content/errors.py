"""Domain errors of content curation, each carrying what a page needs to explain itself in Spanish."""

from __future__ import annotations

from typing import Any


class ContentError(Exception):
    """Base of every content error; ``str(error)`` is a Spanish message fit for staff."""


class NotFound(ContentError):
    """The procedure (or version) does not exist."""


class InvalidTransition(ContentError):
    """The workflow does not allow this step from the current status (e.g. publishing a draft)."""


class SelfApprovalError(ContentError):
    """Nobody approves their own change: the reviewer edited or wrote this version."""


class ConflictError(ContentError):
    """Someone saved first: ``base_revision`` is stale.

    Nothing is lost: ``refused`` is the text the caller tried to save (show it next to
    ``current``, the content saved meanwhile, so the editor can merge by hand).
    """

    def __init__(
        self, message: str, *, current_revision: int, current: dict[str, Any] | None, refused: dict[str, Any] | None
    ) -> None:
        super().__init__(message)
        self.current_revision = current_revision
        self.current = current
        self.refused = refused


class ValidationFailed(ContentError):
    """The content breaks the same rules as ``kb validate``.

    ``problems`` lists every problem as ``(field path, Spanish message)``; the field path
    uses the schema's names with dots (``faqs.2.answer``, ``channels.online``, ``(archivo)``).
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(problems)} problema(s) en el contenido")
        self.problems = problems
