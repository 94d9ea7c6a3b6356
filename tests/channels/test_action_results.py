"""Rasa's check of action answers, with one prebuilt validator (connectors/action_results.py).

Run in Rasa's own environment: the replaced method must accept and refuse exactly what
Rasa 3.6's ``jsonschema.validate`` call does, with Rasa's explanation in the error.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
PROBE = """
import json
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from connectors import action_results

answers = [
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hola"}]},
    {"events": [], "responses": []},
    {},
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": ["not an object"]},
]

def outcome(check, answer):
    try:
        check(answer)
        return "ok"
    except ValidationError as error:
        return error.message

spec = RemoteAction.action_response_format_spec()
action = RemoteAction("action_x", None)
before = [outcome(lambda a: validate(a, spec), a) for a in answers]
action_results.install()
action_results.install()  # twice is once
after = [outcome(action._validate_action_result, a) for a in answers]
print(json.dumps({"before": before, "after": after}))
"""


def test_the_prebuilt_validator_accepts_and_refuses_what_rasa_does() -> None:
    result = subprocess.run(
        [str(RASA_PY), "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["before"][:3] == ["ok", "ok", "ok"]
    assert all(message != "ok" for message in found["before"][3:]), "the probe needs answers Rasa refuses"
    explanation = ". Failed to validate Action server response from API"
    for before, after in zip(found["before"], found["after"], strict=True):
        # The same verdict; a refusal carries jsonschema's reason, then Rasa's explanation.
        assert after == "ok" if before == "ok" else after.startswith(before + explanation)
