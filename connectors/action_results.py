"""Rasa's check of an action server's answer, without re-checking the schema every time.

For every custom action call Rasa 3.6 validates the action server's JSON answer with
``jsonschema.validate(result, spec)``, which first validates ``spec`` itself against
the JSON Schema meta-schema, then builds a validator. The spec is a constant, yet the
meta-schema check is most of the work: in the load benchmark's profile of Rasa it was
about 80 % of Rasa's time running actions, some 15 ms per citizen message on a busy
2-core machine (bench/RESULTS.md, "Rasa's cost per message"). ``install()`` replaces
that method with the same check on a validator built (and its schema checked) once:
the same answers are accepted, the same ``ValidationError`` with Rasa's explanation is
raised for the others.

Installed when Rasa mounts the action guard (connectors/action_guard.py), the route
Rasa's action calls go through. Runs inside Rasa (Python 3.10).
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_INSTALLED = "_ventanilla_one_validator"


def install() -> None:
    """Makes ``RemoteAction._validate_action_result`` use one prebuilt validator (idempotent)."""
    if getattr(RemoteAction._validate_action_result, _INSTALLED, False):
        return
    spec = RemoteAction.action_response_format_spec()
    validator_class = validator_for(spec)
    validator_class.check_schema(spec)  # once, instead of on every action call
    validator = validator_class(spec)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is None:
            return True
        # Rasa's own words (rasa/core/actions/action.py), so logs read the same.
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    setattr(_validate_action_result, _INSTALLED, True)
    RemoteAction._validate_action_result = _validate_action_result
