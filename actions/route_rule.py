"""When the NLU intent and the knowledge base disagree: the routing rule, without I/O.

Some intents steal procedure questions: "quiero sacar el pasaporte" reads as opening a
case, "mi papá falleció, qué hago" as a case status, a question about paying a tax as
out of scope, "necesito ayuda con la pensión de mi mamá" as asking what the bot can do,
a complaint that is really a question ("hace un mes que espero el certificado") as a
comment about the service, a neighbour's late party as a goodbye. For those intents
(``ROUTED_INTENTS``), ``action_route_message`` runs the knowledge-base search first and
applies one rule, the same for every intent:

1. A button (``/intent{...}``), a message with a case code, or help, a suggestion, a
   comment or a goodbye inside a form: follow the intent (the action sets ``forced``).
2. The knowledge base is confident (confidence >= ``answer_kb``; for out of scope, which
   speaks against an answer, ``answer_kb_out_of_scope``) and the intent only **moderately**
   (confidence < ``answer_intent``): answer the question.
3. The knowledge base finds a procedure **plausible** (confidence >= ``ask_kb``) and the
   intent is not **certain** (confidence < ``ask_intent``): ask one short question with
   two buttons ("¿Quiere saber los requisitos de X o iniciar la solicitud?").
4. Otherwise follow the intent. When the intent is opening a case and the knowledge base
   recognises the procedure the message names (confidence >= ``named_kb``), the form
   starts with it filled in and its requirements are offered first.

The intents about the conversation itself (help, a suggestion, a comment, a goodbye) have
rule 2 only, with their own pair of thresholds (``answer_kb_conversation``,
``answer_intent_conversation``): their genuine messages often name a procedure ("estaría
bueno pedir turno desde el celular" is a suggestion, not a question about appointments),
so the knowledge base must be surer and the intent less sure; and asking back (rule 3)
would lose what the citizen wrote, since the second button re-sends only the intent.

The thresholds live in the action server's settings (``VENTANILLA_ROUTE_*``) and were
calibrated on the development set only (``bench/route_calibration.py``). The decision is
recorded in the ``route`` slot (``answer`` / ``ask`` / ``intent``, and ``named`` for
rule 4's case with its procedure filled in): the rules in ``bot/dialogue/routing.yml``
continue from it. Staff's version of this rule: ``knowledge_base/README.md``, "Routing".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pydantic_settings import BaseSettings, SettingsConfigDict

# "cancel" only reaches the rule outside any form (bot/dialogue/rules.yml), where there is
# nothing to cancel. "help", "suggestion", "feedback" and "goodbye" are about the conversation itself:
# inside a form they always follow the intent (actions/routing.py).
ROUTED_INTENTS = (
    "open_case",
    "check_case_status",
    "list_my_cases",
    "out_of_scope",
    "cancel",
    "help",
    "suggestion",
    "feedback",
    "goodbye",
)
CONVERSATION_INTENTS = ("help", "suggestion", "feedback", "goodbye")


class RoutingSettings(BaseSettings):
    """Thresholds of the rule above (``VENTANILLA_ROUTE_*``); calibrated on the dev set.

    Knowledge-base confidences are the search's own (best score minus the similarity to
    an out-of-scope topic; the search abstains below ``VENTANILLA_KB_ABSTAIN_THRESHOLD``,
    0.047 for e5). Intent confidences are DIET's, 0 to 1.
    """

    model_config = SettingsConfigDict(env_prefix="VENTANILLA_ROUTE_", extra="ignore")

    # bench/route_calibration.py on dev.jsonl + the NLU split's genuine requests, test model
    # of 2026-12-02 (knowledge_base/README.md, "Routing"; bench/RESULTS.md).
    answer_kb: float = 0.045
    answer_intent: float = 0.99
    ask_kb: float = 0.045
    ask_intent: float = 0.99
    # Above every generic request of the NLU split ("quiero abrir un tramite nuevo ahora": 0.064).
    named_kb: float = 0.07
    # Rule 2 for the out_of_scope intent: NLU's "this is not about us" is evidence against an
    # answer, so the knowledge base must be surer than for the other intents. Calibrated as the
    # highest value that keeps the development set's top-1 (bench/route_calibration.py).
    answer_kb_out_of_scope: float = 0.05
    # Rule 2 for help, suggestion, feedback and goodbye (module docstring); calibrated in a second
    # step, so that all routed intents together keep within the hijack limit.
    answer_kb_conversation: float = 0.055
    answer_intent_conversation: float = 0.8

    def answer_kb_for(self, intent: str) -> float:
        """Rule 2's knowledge-base threshold for this intent."""
        return max(self.answer_kb, self.answer_kb_out_of_scope) if intent == "out_of_scope" else self.answer_kb


class Route(str, Enum):
    ANSWER = "answer"
    ASK = "ask"
    INTENT = "intent"
    NAMED = "named"  # rule 4 for opening a case, with the procedure filled in


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: str  # one line for the log and for staff: which rule applied


def decide(
    intent: str, intent_confidence: float, kb_confidence: float, settings: RoutingSettings, *, forced: bool = False
) -> Decision:
    """The routing rule (module docstring), with no I/O: the unit tests cover each branch."""
    if forced or intent not in ROUTED_INTENTS:
        return Decision(Route.INTENT, "botón, código de trámite o intención no enrutada")
    if intent in CONVERSATION_INTENTS:
        if kb_confidence >= settings.answer_kb_conversation and intent_confidence < settings.answer_intent_conversation:
            return Decision(Route.ANSWER, "la base de conocimiento está muy segura y la intención no tanto")
        return Decision(Route.INTENT, "un mensaje sobre la conversación, no una pregunta")
    if kb_confidence >= settings.answer_kb_for(intent) and intent_confidence < settings.answer_intent:
        return Decision(Route.ANSWER, "la base de conocimiento está muy segura y la intención no tanto")
    if kb_confidence >= settings.ask_kb and intent_confidence < settings.ask_intent:
        return Decision(Route.ASK, "las dos lecturas son plausibles")
    return Decision(Route.INTENT, "la base de conocimiento no reconoce un trámite")
