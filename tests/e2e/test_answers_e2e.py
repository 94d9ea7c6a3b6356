"""End-to-end answer quality on the holdout: every question through the REST channel.

``kb eval`` scores the search alone; here the same questions go through Rasa first
(one fresh conversation each, on the session stack: test model, action server, real
index), and the citizen must get the answer as often as the search alone gives it,
within 3 points of top-1 (issue 13). ``bench/e2e_answers.py`` is the full report
(both sets, misses and which intent took them): ``make eval-e2e``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.e2e_answers import EVAL_DIR, e2e_metrics, find_misses, kb_metrics, run_set
from knowledge_base.evaluation import load_questions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOLDOUT = EVAL_DIR / "holdout.jsonl"
MAX_TOP1_GAP = 0.03
MAX_FALSE_ABSTAIN = 0.05
MIN_ABSTAIN_ON_NULL = 0.90


# Known gap, kept visible (bench/RESULTS.md, third round): on the holdout e2e top-1 is within
# 3 points of kb eval (0.923 vs 0.929) and false abstention is 4.8 % (<= 5 %), but abstention
# on out-of-scope questions is 81 % (>= 90 % asked), the same as kb eval's own figure: the
# knowledge base itself answers 3 of the 16. strict: the day all three hold this XPASSes and
# fails, so the mark goes.
@pytest.mark.xfail(
    strict=True,
    reason="issue 13 open: holdout abstention on out-of-scope questions 81 % (>= 90 % asked), "
    "the knowledge base's own figure",
)
def test_holdout_top1_end_to_end_is_within_3_points_of_kb_eval(stack: Any, kb_index_dir: Path) -> None:
    results = run_set(stack.rasa_url, load_questions(HOLDOUT))
    e2e = e2e_metrics([reply for _, reply in results])
    kb = kb_metrics(HOLDOUT, kb_index_dir)
    misses = find_misses(stack.rasa_url, stack.rasa_token, results)
    report = "\n".join(m.line() for m in misses)
    print(f"e2e {e2e}\nkb eval {kb}\n{report}")
    assert e2e["n"] == kb["n"] == len(results)
    assert e2e["top1"] >= kb["top1"] - MAX_TOP1_GAP, f"e2e {e2e} vs kb eval {kb}; misses:\n{report}"
    assert e2e["false_abstain"] <= MAX_FALSE_ABSTAIN, f"e2e {e2e}; misses:\n{report}"
    assert e2e["abstain_on_null"] >= MIN_ABSTAIN_ON_NULL, f"e2e {e2e}; misses:\n{report}"
