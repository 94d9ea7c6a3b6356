"""Calibrates the routing thresholds (``VENTANILLA_ROUTE_*``) on the development set only.

Two kinds of message are needed to place the thresholds:

- procedure questions and must-abstain questions: ``knowledge_base/eval/dev.jsonl``
  (never the holdout);
- genuine requests of the routed intents (open a case, check a status, list my cases,
  out of scope): the examples of those intents in the NLU test split
  (``tests/nlu/test_nlu.yml``), which the model never trained on, so their intent
  confidences are realistic. Routing does not change NLU, so the NLU evaluation on that
  split is unaffected.

Each message is parsed once by the running model (Rasa's ``/model/parse``) and searched
once; the conversation is then simulated for every combination of thresholds with
``actions.route_rule.decide`` (the action's own rule). The chosen combination maximises
the development set's top-1 while the must-abstain questions stay abstained as often as
without routing and at most ``--max-hijack`` of the genuine requests are answered
instead of being followed.

    .venv/bin/python -m bench.route_calibration            # own stack, the test model
    .venv/bin/python -m bench.route_calibration --url http://127.0.0.1:5005 --token T
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from actions.route_rule import ROUTED_INTENTS, Route, RoutingSettings, decide
from bench.e2e_answers import EVAL_DIR, ROOT, running_stack
from knowledge_base.evaluation import Question, load_questions

NLU_SPLIT = ROOT / "tests" / "nlu" / "test_nlu.yml"
KB_INTENTS = ("ask_procedure", "nlu_fallback")  # these already go to the knowledge base


@dataclass(frozen=True)
class Signals:
    text: str
    expected: str | None  # procedure id, None = must abstain; "#intent" for a genuine request
    intent: str
    intent_confidence: float
    kb_confidence: float
    kb_answer: str | None  # what the knowledge base answers (None: it abstains)


def parse(rasa_url: str, token: str, text: str) -> tuple[str, float]:
    request = urllib.request.Request(
        f"{rasa_url}/model/parse?token={urllib.parse.quote(token)}",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        intent = json.loads(response.read()).get("intent") or {}
    return str(intent.get("name")), float(intent.get("confidence") or 0)


ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def genuine_requests() -> list[Question]:
    """The NLU split's examples of the routed intents (entity annotations removed), marked ``#<intent>``."""
    data = yaml.safe_load(NLU_SPLIT.read_text(encoding="utf-8"))
    return [
        Question(ANNOTATION.sub(r"\1", line.strip().removeprefix("- ").strip()), f"#{block['intent']}")
        for block in data["nlu"]
        if block.get("intent") in ROUTED_INTENTS
        for line in str(block["examples"]).splitlines()
        if line.strip()
    ]


def collect(rasa_url: str, token: str, questions: list[Question]) -> list[Signals]:
    from knowledge_base.cli import _searcher
    from knowledge_base.settings import SearchSettings

    searcher = _searcher(SearchSettings())
    signals = []
    for q in questions:
        intent, confidence = parse(rasa_url, token, q.question)
        result = searcher.search(q.question)
        signals.append(
            Signals(
                q.question,
                q.expected,
                intent,
                confidence,
                result.confidence if result.closest else 0.0,
                result.hits[0].procedure_id if result.hits else None,
            )
        )
    return signals


def simulate(signals: list[Signals], settings: RoutingSettings) -> dict[str, float]:
    """The conversation's first reply, as the routing rule would give it."""
    top1 = answered_null = n_ans = n_null = hijacked = asked_genuine = n_genuine = asked_questions = answered_first = 0
    for s in signals:
        route = decide(s.intent, s.intent_confidence, s.kb_confidence, settings).route
        # Opening a case that names a procedure the knowledge base answers about: the answer
        # comes first, with «Iniciar trámite» (actions/routing.py, _named_answer).
        named = (
            s.intent == "open_case" and route is Route.INTENT and s.kb_confidence >= settings.named_kb and s.kb_answer
        )
        answers = s.kb_answer if (s.intent in KB_INTENTS or route is Route.ANSWER or named) else None
        if s.expected is not None and s.expected.startswith("#"):
            n_genuine += 1
            hijacked += route is Route.ANSWER and answers is not None
            asked_genuine += route is Route.ASK
            answered_first += bool(named)
        elif s.expected is None:
            n_null += 1
            answered_null += answers is not None
        else:
            n_ans += 1
            top1 += answers == s.expected
            asked_questions += route is Route.ASK and s.intent in ROUTED_INTENTS
    return {
        "top1": round(top1 / max(n_ans, 1), 4),
        "abstain_on_null": round(1 - answered_null / max(n_null, 1), 4),
        "asked_questions": round(asked_questions / max(n_ans, 1), 4),
        "hijacked_requests": round(hijacked / max(n_genuine, 1), 4),
        "asked_requests": round(asked_genuine / max(n_genuine, 1), 4),
        # genuine requests naming a procedure: shown its answer first, then one tap to start
        "answered_first_requests": round(answered_first / max(n_genuine, 1), 4),
    }


NEVER = RoutingSettings(
    answer_kb=9.0,
    answer_intent=0.0,
    ask_kb=9.0,
    ask_intent=0.0,
    answer_kb_out_of_scope=9.0,
    answer_kb_conversation=9.0,
    answer_intent_conversation=0.0,
)


def sweep(signals: list[Signals], max_hijack: float) -> list[tuple[dict[str, float], RoutingSettings]]:
    baseline = simulate(signals, NEVER)
    kb_grid = [round(0.04 + 0.005 * i, 3) for i in range(25)]
    intent_grid = [0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.01]
    rows = []
    for answer_kb, answer_intent in itertools.product(kb_grid, intent_grid):
        for ask_kb in [k for k in kb_grid if k <= answer_kb]:
            for ask_intent in (answer_intent, 1.01):
                settings = RoutingSettings(
                    answer_kb=answer_kb,
                    answer_intent=answer_intent,
                    ask_kb=ask_kb,
                    ask_intent=ask_intent,
                    answer_kb_out_of_scope=answer_kb,
                    # placed in the second step (conversation_thresholds)
                    answer_kb_conversation=9.0,
                    answer_intent_conversation=0.0,
                )
                m = simulate(signals, settings)
                if m["abstain_on_null"] >= baseline["abstain_on_null"] and m["hijacked_requests"] <= max_hijack:
                    rows.append((m, settings))
    # Best top-1; then fewer questions asked of citizens who asked a question; then the
    # strictest (highest) thresholds, which are the least surprising for staff.
    rows.sort(
        key=lambda r: (-r[0]["top1"], r[0]["asked_questions"], r[0]["hijacked_requests"], -r[1].answer_kb, -r[1].ask_kb)
    )
    return [
        conversation_thresholds(signals, *strictest_out_of_scope(signals, m, settings), max_hijack)
        for m, settings in rows[:10]
    ]


def conversation_thresholds(
    signals: list[Signals], metrics: dict[str, float], settings: RoutingSettings, max_hijack: float
) -> tuple[dict[str, float], RoutingSettings]:
    """Rule 2's pair for help, suggestion, feedback and goodbye, placed after the others: the
    best development top-1 with every routed intent together still within ``max_hijack``;
    among equals, the strictest (highest knowledge-base, lowest intent threshold). Their
    genuine messages name procedures more often than the other intents' do."""
    best = (metrics, settings)
    kb_grid = [round(0.04 + 0.005 * i, 3) for i in range(33)]
    intent_grid = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995]
    for answer_kb, answer_intent in itertools.product(reversed(kb_grid), intent_grid):
        candidate = settings.model_copy(
            update={"answer_kb_conversation": answer_kb, "answer_intent_conversation": answer_intent}
        )
        m = simulate(signals, candidate)
        if (
            m["top1"] > best[0]["top1"]
            and m["hijacked_requests"] <= max_hijack
            and m["abstain_on_null"] >= metrics["abstain_on_null"]
        ):
            best = (m, candidate)
    return best


def strictest_out_of_scope(
    signals: list[Signals], metrics: dict[str, float], settings: RoutingSettings
) -> tuple[dict[str, float], RoutingSettings]:
    """The highest ``answer_kb_out_of_scope`` that keeps every figure of ``metrics``: the
    out_of_scope intent speaks against answering, so answer over it only as surely as the
    development set shows to be needed (must-abstain questions are what it protects, and
    the development set has too few that reach this branch to place it by them)."""
    best = (metrics, settings.model_copy(update={"answer_kb_out_of_scope": settings.answer_kb}))
    for value in (round(settings.answer_kb + 0.005 * i, 3) for i in range(1, 41)):
        candidate = settings.model_copy(update={"answer_kb_out_of_scope": value})
        m = simulate(signals, candidate)
        if m["top1"] < metrics["top1"] or m["abstain_on_null"] < metrics["abstain_on_null"]:
            break
        best = (m, candidate)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--token", default="")
    parser.add_argument("--config", type=Path, default=ROOT / "tests" / "config.fast.yml")
    parser.add_argument("--max-hijack", type=float, default=0.05)
    parser.add_argument("--dump", type=Path, help="write the collected signals (JSON lines)")
    parser.add_argument("--signals", type=Path, help="sweep signals written by --dump (no stack)")
    args = parser.parse_args()
    questions = load_questions(EVAL_DIR / "dev.jsonl") + genuine_requests()

    def run(url: str, token: str) -> None:
        signals = collect(url, token, questions)
        if args.dump:
            args.dump.write_text("\n".join(json.dumps(s.__dict__, ensure_ascii=False) for s in signals) + "\n")
        report(signals)

    def report(signals: list[Signals]) -> None:
        print("sin enrutar:", simulate(signals, NEVER))
        print("valores por defecto:", simulate(signals, RoutingSettings()))
        for metrics, settings in sweep(signals, args.max_hijack)[:10]:
            print(metrics, settings.model_dump())

    if args.signals:
        lines = args.signals.read_text(encoding="utf-8").splitlines()
        report([Signals(**json.loads(line)) for line in lines if line.strip()])
    elif args.url:
        run(args.url, args.token)
    else:
        with running_stack(args.config) as stack:
            run(stack.rasa_url, stack.rasa_token)


if __name__ == "__main__":
    main()
