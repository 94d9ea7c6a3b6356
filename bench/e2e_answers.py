"""End-to-end answer quality: the knowledge-base evaluation sets sent through the conversation.

``kb eval`` asks the search directly; citizens talk to Rasa, which first picks an intent.
This sends every question of a set (``knowledge_base/eval/*.jsonl`` or any file in that
format) to the REST channel of a running stack (trained model, action server, real index),
one fresh conversation per question, and scores what the citizen got back:

- the procedure of the ``kb_answer`` payload is the answer (no payload: no answer);
- the procedures offered are the answer's, then those of the buttons (disambiguation,
  "¿Se refería a...?"), in order;
- each miss is explained with the intent Rasa picked and the actions that ran, read from
  the tracker through Rasa's HTTP API (``?token=``).

The metrics are ``knowledge_base.evaluation``'s, computed on outcomes built from the
replies (an answer has confidence 1, no answer 0, threshold 0.5): top-1, false abstention
and abstention on must-abstain questions as ``kb eval`` defines them; recall@3 counts
every procedure offered (answer or buttons), so it is taken without abstention. The same
set through ``kb eval`` (same index, same searcher) is reported next to it.

    .venv/bin/python -m bench.e2e_answers --misses            # own stack, the test model
    .venv/bin/python -m bench.e2e_answers --config config.yml   # the shipped model
    .venv/bin/python -m bench.e2e_answers --url http://127.0.0.1:5005 --token T FILE...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge_base.evaluation import Outcome, Question, load_questions, metrics_at

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "knowledge_base" / "eval"
PROCEDURE_IN_PAYLOAD = re.compile(r'"procedure"\s*:\s*"([^"]+)"')
# An answer counts fully, no answer not at all: metrics_at's threshold sits in between.
ANSWERED, NOT_ANSWERED, THRESHOLD = 1.0, 0.0, 0.5


@dataclass(frozen=True)
class Reply:
    """What one question got back through the REST channel."""

    question: Question
    answered: str | None  # procedure of the kb_answer payload
    offered: tuple[str, ...]  # answer first, then the procedures of the buttons
    messages: tuple[dict[str, Any], ...]

    def outcome(self) -> Outcome:
        return Outcome(self.question, self.offered, ANSWERED if self.answered else NOT_ANSWERED)


def read_reply(question: Question, messages: list[dict[str, Any]]) -> Reply:
    answered = next(
        (
            str(m["custom"].get("procedure_id"))
            for m in messages
            if isinstance(m.get("custom"), dict) and m["custom"].get("type") == "kb_answer"
        ),
        None,
    )
    offered: list[str] = [answered] if answered else []
    for message in messages:
        for button in message.get("buttons", []) or []:
            match = PROCEDURE_IN_PAYLOAD.search(str(button.get("payload", "")))
            if match and match.group(1) not in offered:
                offered.append(match.group(1))
    return Reply(question, answered, tuple(offered), tuple(messages))


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def ask(rasa_url: str, question: Question) -> tuple[str, Reply]:
    """One question in a fresh conversation; returns (sender, reply)."""
    sender = f"e2e-{uuid.uuid4().hex[:12]}"
    messages = _post(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": question.question})
    return sender, read_reply(question, list(messages))


def who_took_it(rasa_url: str, token: str, sender: str) -> tuple[str, float, tuple[str, ...]]:
    """The intent Rasa picked, its confidence and the actions that ran, from the tracker."""
    url = f"{rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker?token={urllib.parse.quote(token)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        tracker = json.loads(response.read())
    intent = (tracker.get("latest_message") or {}).get("intent") or {}
    events = tracker.get("events") or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    actions = tuple(
        str(e.get("name"))
        for e in events[last_user + 1 :]
        if e.get("event") == "action" and e.get("name") not in ("action_listen", None)
    )
    return str(intent.get("name")), float(intent.get("confidence") or 0), actions


def run_set(rasa_url: str, questions: list[Question], workers: int = 3) -> list[tuple[str, Reply]]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda q: ask(rasa_url, q), questions))


def e2e_metrics(replies: list[Reply]) -> dict[str, float | int]:
    """kb eval's metrics on the replies; recall@3 over everything offered (see the module doc)."""
    outcomes = [r.outcome() for r in replies]
    metrics = metrics_at(outcomes, THRESHOLD)
    metrics["recall_at_3"] = metrics_at(outcomes, 0.0)["recall_at_3"]
    metrics.pop("mrr", None)  # the order of buttons after an abstention is not a ranking
    return metrics


def kb_metrics(path: Path, index_dir: Path | None = None) -> dict[str, float | int]:
    """``kb eval`` on the same file: the index of ``index_dir`` (default ``VENTANILLA_KB_INDEX_DIR``)."""
    from knowledge_base.cli import _searcher
    from knowledge_base.evaluation import evaluate
    from knowledge_base.settings import SearchSettings

    settings = SearchSettings() if index_dir is None else SearchSettings(index_dir=index_dir)
    return evaluate(_searcher(settings), load_questions(path))


@dataclass(frozen=True)
class Miss:
    reply: Reply
    intent: str
    confidence: float
    actions: tuple[str, ...]

    def line(self) -> str:
        r = self.reply
        return (
            f"esperado={r.question.expected or 'abstenerse'}  respondió={r.answered or '-'}"
            f"  ofrecido=[{', '.join(r.offered)}]  {self.intent} ({self.confidence:.2f})"
            f" -> {', '.join(self.actions) or '-'}  | {r.question.question}"
        )


def is_right(reply: Reply) -> bool:
    return reply.answered == reply.question.expected


def find_misses(rasa_url: str, token: str, results: list[tuple[str, Reply]]) -> list[Miss]:
    return [Miss(reply, *who_took_it(rasa_url, token, sender)) for sender, reply in results if not is_right(reply)]


def evaluate_files(rasa_url: str, token: str, files: list[Path], *, misses: bool, with_kb: bool) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for path in files:
        results = run_set(rasa_url, load_questions(path))
        entry: dict[str, Any] = {"e2e": e2e_metrics([r for _, r in results])}
        if token:
            found = find_misses(rasa_url, token, results)
            entry["misses_by_intent"] = dict(Counter(m.intent for m in found).most_common())
            if misses:
                entry["misses"] = [m.line() for m in found]
        if with_kb:
            entry["kb_eval"] = kb_metrics(path)
        report[path.name] = entry
    return report


def print_report(report: dict[str, Any]) -> None:
    for name, entry in report.items():
        print(f"== {name}")
        keys = ("n", "top1", "recall_at_3", "false_abstain", "abstain_on_null")
        print(f"{'':>10}" + "".join(f"{k:>16}" for k in keys))
        for source in ("e2e", "kb_eval"):
            if source in entry:
                print(f"{source:>10}" + "".join(f"{entry[source].get(k, '-'):>16}" for k in keys))
        if "misses_by_intent" in entry:
            print("fallos por intención:", ", ".join(f"{k} {v}" for k, v in entry["misses_by_intent"].items()))
        for line in entry.get("misses", []):
            print("  " + line)


@contextmanager
def running_stack(config: Path) -> Iterator[Any]:
    """A stack on free ports with the model of ``config`` (trained if needed) and the real index
    of ``VENTANILLA_KB_INDEX_DIR`` (default ``var/kb_index``, built if the content changed)."""
    from launcher.stack import APP_PY, Ports, Stack
    from launcher.train import ensure_model

    index_dir = Path(os.environ.get("VENTANILLA_KB_INDEX_DIR", ROOT / "var" / "kb_index"))
    os.environ["VENTANILLA_KB_INDEX_DIR"] = str(index_dir)  # kb eval in this process reads it
    subprocess.run([str(APP_PY), "-m", "knowledge_base.cli", "build", "--if-changed"], cwd=ROOT, check=True)
    config = config.resolve()
    shipped = config == ROOT / "config.yml"
    models = ROOT / "models" if shipped else ROOT / "var" / "test-models"
    model = ensure_model(config, models, "ventanilla" if shipped else "test")
    env = {"VENTANILLA_KB_INDEX_DIR": str(index_dir), "VENTANILLA_ENV": "test"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        Stack(model=model, var_dir=Path(tmp), ports=Ports.free(), with_web=False, extra_env=env) as stack,
    ):
        yield stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="question files; default: dev and holdout")
    parser.add_argument("--url", help="a running Rasa server; default: start a stack")
    parser.add_argument("--token", default="", help="Rasa's API token (to read who took each miss)")
    parser.add_argument(
        "--config", type=Path, default=ROOT / "tests" / "config.fast.yml", help="Rasa config whose model to use"
    )
    parser.add_argument("--misses", action="store_true", help="list every miss with the intent and actions")
    parser.add_argument("--no-kb", action="store_true", help="skip kb eval on the same sets")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files = args.files or [EVAL_DIR / "dev.jsonl", EVAL_DIR / "holdout.jsonl"]

    def emit(url: str, token: str) -> None:
        report = evaluate_files(url, token, files, misses=args.misses, with_kb=not args.no_kb)
        print(json.dumps(report, ensure_ascii=False, indent=1)) if args.json else print_report(report)

    if args.url:
        emit(args.url, args.token)
        return
    with running_stack(args.config) as stack:
        emit(stack.rasa_url, stack.rasa_token)


if __name__ == "__main__":
    main()
