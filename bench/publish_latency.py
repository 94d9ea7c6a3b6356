"""Time from "publish" to the bot's search answering with the new text, vs a full index rebuild.

On a copy of the shipped content (42 procedures, 1,164 passages) with the real e5 model:
the content store (SQLite, scratch file) is seeded from the files, the index is built in
full once (timed: the comparison), then ``--runs`` times one procedure's cost is edited,
submitted and published by another person (``backend.content.service.publish``), while an
``IndexHolder`` configured like the action server's (checks ``CURRENT`` every second, its
own e5 instance) is asked the citizen's question until it answers with the new text.

    .venv/bin/python -m bench.publish_latency --runs 5

Prints per run: publish call seconds, passages embedded/reused, seconds from the publish
call to the first answer with the new text; then medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from backend.content import service
from backend.content.publishing import Publisher
from backend.content.store import published_data
from backend.db import create_schema, make_engine, session_factory
from knowledge_base.embedders import make_embedder
from knowledge_base.search import IndexHolder
from knowledge_base.settings import PACKAGE_DIR, SearchSettings

PID = "licencia-conducir-renovacion"
QUESTION = "cuanto cuesta renovar la licencia de conducir"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(PACKAGE_DIR / "content", root / "content")
        settings = SearchSettings(
            content_dir=root / "content", index_dir=root / "index", imported_dir=root / "imported"
        )
        engine = make_engine(f"sqlite:///{root / 'cases.db'}")
        create_schema(engine)
        session = session_factory(engine)()
        service.seed_if_empty(session, content_dir=settings.content_dir)
        publisher = Publisher(settings)
        started = time.perf_counter()
        full = publisher.rebuild(published_data(session))
        full_seconds = time.perf_counter() - started
        print(f"reconstrucción completa: {full_seconds:.1f} s ({full.embedded} pasajes calculados)", flush=True)
        holder = IndexHolder(settings, make_embedder(settings.embedder, settings.model, threads=settings.threads))
        holder.searcher()
        publish_s, answer_s = [], []
        for run in range(1, args.runs + 1):
            content = service.get_content(session, procedure_id=PID)
            new_cost = (
                f"Renovación de clases A1, A o B: $ {16000 + run * 100}. Clases C, D o E: $ 23.000 (tarifa {run})."
            )
            draft = service.save_draft(
                session,
                procedure_id=PID,
                data={**content.data, "cost": new_cost},
                base_revision=content.revision,
                actor="editora",
            )
            review = service.submit_for_review(session, procedure_id=PID, base_revision=draft.revision, actor="editora")
            t0 = time.perf_counter()
            result = service.publish(
                session, procedure_id=PID, base_revision=review.revision, actor="revisor", publisher=publisher
            )
            t1 = time.perf_counter()
            while True:
                hits = holder.searcher().search(QUESTION).hits
                if hits and hits[0].passage.text == new_cost:
                    break
                if time.perf_counter() - t0 > 120:
                    raise SystemExit("el índice no respondió con el texto nuevo en 120 s")
                time.sleep(0.05)
            t2 = time.perf_counter()
            publish_s.append(t1 - t0)
            answer_s.append(t2 - t0)
            print(
                f"run {run}: publicar {t1 - t0:.2f} s ({result.embedded_passages} calculados, "
                f"{result.reused_passages} reutilizados); respuesta nueva a los {t2 - t0:.2f} s",
                flush=True,
            )
        print(
            f"mediana: publicar {statistics.median(publish_s):.2f} s; respuesta nueva {statistics.median(answer_s):.2f} s; "
            f"reconstrucción completa {full_seconds:.1f} s"
        )
        session.close()
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
