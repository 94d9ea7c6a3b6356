"""Item 6 (staff API): the backend's HTTP API fuzzed from its own OpenAPI schema.

schemathesis (pinned in requirements/app.txt) generates requests for every operation
of ``/openapi.json`` (staff API with an admin token, internal case API with the
service token, health), valid and invalid, against the real app over SQLite.
Pass criterion: no answer is a 5xx. The counts go to ``var/fuzz-counts.json``
(tests/RELIABILITY.md quotes them).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from backend.api import create_app
from backend.db import create_schema, make_engine
from tests.backend.conftest import ADMIN_TOKEN, SERVICE_TOKEN, backend_settings
from tests.reliability.counts import record_counts

MAX_EXAMPLES = 60  # per operation


def test_no_operation_answers_5xx(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = make_engine(url)
    create_schema(engine)  # the app's lifespan would do it; schemathesis calls the app directly
    engine.dispose()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(backend_settings(url), run_dispatcher=False))
    counts: Counter[str] = Counter()
    failures: list[tuple[str, str, object]] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
        def call(case: Any) -> None:
            token = SERVICE_TOKEN if case.path.startswith("/internal") else ADMIN_TOKEN
            counts["requests"] += 1
            try:
                status = case.call(headers={"Authorization": f"Bearer {token}"}).status_code
            except Exception as error:  # noqa: BLE001 - an exception in the app is a 500
                status = 500
                failures.append((case.method, case.formatted_path, repr(error)[:200]))
            if status >= 500:
                counts["5xx"] += 1
                if not failures or failures[-1][2] != status:
                    failures.append((case.method, case.formatted_path, status))

        call()
    record_counts("staff and internal API (schemathesis)", counts["requests"], counts["5xx"])
    assert not failures, failures[:10]
