"""Grouping 10,000 unanswered questions, and the inbox page with them (issue 16).

Synthetic masked questions (topics x phrasings x small variations, like what citizens
write) are recorded in a scratch SQLite database through ``InteractionStore``. Then:

1. embedding: the action server embeds each masked question once when it records it (its
   search's embedder is loaded already); timed per question, then the 10,000 are embedded
   in batch only to set the bench up;
2. grouping: ``compute_groups`` on the open rows with their stored vectors (load rows,
   Birch, summaries): what the inbox recomputes when questions arrive or a group is handled;
3. the inbox page: ``GET /console/unanswered`` through the real app (TestClient, signed-in
   editor), with the grouping cached (the page's normal case), right after a new question
   arrived (the new question is embedded and inserted into the kept grouping), and right
   after a group was handled (the page serves the last complete grouping minus the handled
   rows, marked "actualizando", while ``backend.unanswered.cache`` regroups all on its own
   thread; the regroup's own time is printed too).

    .venv/bin/python -m bench.unanswered_grouping --questions 10000 --runs 5

Prints each timing's median (and the runs); "--embedder fake" skips the model.
"--calibrate 0.2,0.28,0.35" also compares Birch radii against the 60 topics the questions
were generated from (groups, homogeneity, completeness).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TOPICS = [
    "préstamo de sillas de ruedas",
    "castración gratuita de gatos",
    "pilas usadas",
    "clases de natación",
    "huerta comunitaria",
    "wifi en la plaza",
    "bicicletas públicas",
    "colonia de vacaciones",
    "taller de computación para jubilados",
    "cementerio municipal",
    "feria de artesanos",
    "cursos de oficios",
    "podología gratuita",
    "plan de vacunación antigripal",
    "luminarias de la calle",
    "semáforo roto",
    "fumigación contra mosquitos",
    "ratas en un baldío",
    "microbasural en la esquina",
    "perros abandonados",
    "ayuda para pagar el alquiler",
    "garrafa social",
    "comedor comunitario",
    "boleto estudiantil",
    "registro de cuidadoras",
    "licencia de taxi",
    "carnet de manipulador de alimentos",
    "puesto en el mercado",
    "cartel en la vereda",
    "mesas en la vereda del bar",
    "corte de calle por una fiesta",
    "pileta del polideportivo",
    "biblioteca popular",
    "museo de la ciudad",
    "visitas guiadas",
    "banda municipal",
    "orquesta juvenil",
    "escuela de música",
    "becas deportivas",
    "torneo barrial",
    "cloacas del barrio",
    "agua de red",
    "zanja tapada",
    "inundación en la calle",
    "árbol caído",
    "nido de avispas",
    "poste inclinado",
    "vereda rota",
    "rampa para discapacitados",
    "transporte adaptado",
    "acompañante terapéutico",
    "turno con psicólogo",
    "salud mental",
    "violencia de género",
    "línea de la mujer",
    "defensa del consumidor",
    "reclamo a una empresa",
    "oficina de empleo joven",
    "primer empleo",
    "capacitación en oficios",
]
PHRASINGS = [
    "¿dónde pido {t}?",
    "¿cómo consigo {t}?",
    "quiero información sobre {t}",
    "necesito {t}",
    "¿la municipalidad tiene {t}?",
    "¿hay {t} en mi barrio?",
    "consulta por {t}",
    "{t}, ¿a quién le pregunto?",
    "¿me pueden ayudar con {t}?",
    "¿qué hago por {t}?",
    "¿con quién hablo por {t}?",
    "tengo un problema con {t}",
]
TAILS = ["", "", " por favor", " urgente", " gracias", " en el centro", " para mi mamá", " hoy", " de [número]"]
REASONS = ["abstained", "abstained", "fallback", "not_helpful", "low_rating"]


def labelled_questions(n: int, seed: int = 7) -> list[tuple[str, int]]:
    """(question, topic index): the topic is what a person would group by (60 of them)."""
    rng = random.Random(seed)
    topics = TOPICS * 4  # more topics than templates: suffixes make 240 distinct themes
    themes = [f"{t}{'' if i < len(TOPICS) else f' ({i // len(TOPICS)})'}" for i, t in enumerate(topics)]
    picked = [rng.randrange(len(themes)) for _ in range(n)]
    return [(rng.choice(PHRASINGS).format(t=themes[i]) + rng.choice(TAILS), i % len(TOPICS)) for i in picked]


def questions(n: int, seed: int = 7) -> list[str]:
    return [text for text, _ in labelled_questions(n, seed)]


def calibrate(vectors: Any, topics: list[int], radii: list[float]) -> None:
    """Groups per radius against the 60 topics: how many, how pure, how split (V-measure parts).

    Homogeneity 1.0 = no group mixes topics; completeness 1.0 = no topic is split over groups.
    The " (n)" suffixed themes are the same topic to a reader, so the topic is the reference.
    """
    from sklearn.metrics import homogeneity_completeness_v_measure

    from backend.unanswered.clustering import cluster

    for radius in radii:
        started = time.perf_counter()
        labels = cluster(vectors, radius)
        elapsed = time.perf_counter() - started
        h, c, v = homogeneity_completeness_v_measure(topics, labels)
        print(
            f"radius {radius:.2f}: {len(set(labels.tolist()))} groups for {len(set(topics))} topics, "
            f"homogeneity {h:.3f}, completeness {c:.3f}, V {v:.3f} ({elapsed:.2f} s)"
        )


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s (runs: {', '.join(f'{v:.3f}' for v in values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--embedder", default="e5")
    parser.add_argument(
        "--calibrate", default="", help="comma-separated Birch radii to compare against the topics, e.g. 0.2,0.28,0.35"
    )
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from backend.accounts import service as accounts
    from backend.accounts.roles import Role
    from backend.api import create_app
    from backend.console.routes_content import publisher
    from backend.console.routes_unanswered import inbox_cache, warm_inbox
    from backend.content.publishing import Publisher
    from backend.interactions import Candidate
    from backend.settings import BackendSettings
    from backend.unanswered.grouping import compute_groups, embed_missing, model_key
    from backend.unanswered.store import mark_handled, open_rows
    from knowledge_base.embedders import make_embedder, normalize_rows
    from knowledge_base.settings import SearchSettings

    with tempfile.TemporaryDirectory(prefix="unanswered-bench-") as tmp:
        root = Path(tmp)
        settings = BackendSettings(
            var_dir=root,
            env="test",
            notify_enabled=False,
            case_hash_key=secrets.token_urlsafe(32),
            console_secret=secrets.token_urlsafe(32),
            content_seed_on_start=True,
        )
        app = create_app(settings, run_dispatcher=False)
        embedder = make_embedder(args.embedder, threads=0)
        pub = Publisher(SearchSettings(index_dir=root / "index", embedder=args.embedder), embedder=embedder)
        app.dependency_overrides[publisher] = lambda: pub
        key = model_key(args.embedder)
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            state = app.state.ventanilla
            rng = random.Random(3)
            labelled = labelled_questions(args.questions)
            texts = [text for text, _ in labelled]
            started = time.perf_counter()
            for text in texts[:200]:  # what the action server adds to a failed turn: one question
                embedder.embed_queries([text])
            single_ms = (time.perf_counter() - started) / 200 * 1000
            print(f"embedding one question at record time ({args.embedder}, action server): {single_ms:.1f} ms")
            started = time.perf_counter()
            vectors = embedder.embed_queries(texts)
            print(f"(bench set-up: {len(texts)} questions embedded in batch in {time.perf_counter() - started:.1f} s)")
            if args.calibrate:
                radii = [float(r) for r in args.calibrate.split(",")]
                calibrate(normalize_rows(vectors), [topic for _, topic in labelled], radii)
            started = time.perf_counter()
            for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
                state.interactions.record_unanswered(
                    sender_id=f"s{i % 997}", channel=rng.choice(["rest", "telegram", "whatsapp"]),
                    reason=rng.choice(REASONS), question=text, intent="ask_procedure",
                    intent_confidence=rng.random(), candidates=[Candidate("registro-mascotas", rng.random())], secrets=[],
                    embedding=[float(v) for v in vector], embedding_model=key,
                )  # fmt: skip
            print(f"recorded {args.questions} questions in {time.perf_counter() - started:.1f} s")

            with state.sessions() as db:
                rows = open_rows(db)
                started = time.perf_counter()
                missing = embed_missing(db, key, lambda: embedder, rows)
                db.commit()
            print(f"left for the inbox to embed: {missing} questions ({time.perf_counter() - started:.2f} s)")

            grouping: list[float] = []
            groups: Any = []
            for _ in range(args.runs):
                with state.sessions() as db:
                    started = time.perf_counter()
                    groups = compute_groups(db, key, lambda: embedder)
                    grouping.append(time.perf_counter() - started)
            print(f"grouping {args.questions} questions (stored vectors): {_median(grouping)}; {len(groups)} groups")

            password = secrets.token_urlsafe(16)
            with state.sessions() as db:
                accounts.create_user(
                    db, username="bench", display_name="Bench", password=password,
                    roles=frozenset({Role.EDITOR}), actor="bench", min_length=12,
                )  # fmt: skip
                db.commit()
            client.get("/console/login")
            login = client.post(
                "/console/login",
                data={"username": "bench", "password": password, "next": "/console",
                      "csrf_token": _csrf(client.get("/console/login").text)},
            )  # fmt: skip
            _check(login.status_code == 303, "login failed")
            cache = inbox_cache(app)
            _check(cache.wait_idle(), "the background regroup did not end")
            app.state.unanswered_groups = None  # as after a restart: no grouping yet, the start-up one begins
            warm_inbox(app)
            cache = inbox_cache(app)
            started = time.perf_counter()
            page = client.get("/console/unanswered")
            _check(page.status_code == 200, "inbox failed")
            print(
                f"inbox page, first view after the process started: {time.perf_counter() - started:.3f} s ({_served(page.text)})"
            )
            started = time.perf_counter()
            _check(cache.wait_idle(), "the background regroup did not end")
            print(f"  ... the start-up grouping was ready {time.perf_counter() - started:.2f} s later")
            cold: list[float] = []
            warm: list[float] = []
            for i in range(args.runs):
                text = f"pregunta nueva número {i} sobre pilas"
                vector = [float(v) for v in embedder.embed_queries([text])[0]]  # as the action server sends it
                state.interactions.record_unanswered(
                    sender_id="new", channel="rest", reason="abstained", question=text,
                    intent="", intent_confidence=None, candidates=[], secrets=[],
                    embedding=vector, embedding_model=key,
                )  # fmt: skip
                started = time.perf_counter()
                page = client.get("/console/unanswered")
                cold.append(time.perf_counter() - started)
                _check(page.status_code == 200, "inbox failed")
                for _ in range(4):
                    started = time.perf_counter()
                    page = client.get("/console/unanswered")
                    warm.append(time.perf_counter() - started)
                    _check(page.status_code == 200, "inbox failed")
            print(f"inbox page, grouping cached: {_median(warm)}")
            print(f"inbox page right after a new question (with its vector: extends the grouping): {_median(cold)}")
            handled: list[float] = []
            behind: list[float] = []
            served: list[str] = []
            for _ in range(args.runs):
                _check(cache.wait_idle(), "the background regroup did not end")
                with state.sessions() as db:
                    smallest = cache.groups(db, key, lambda: embedder)[-1]
                    mark_handled(db, ids=smallest.ids, status="dismissed", actor="bench")
                    db.commit()
                started = time.perf_counter()
                page = client.get("/console/unanswered")
                handled.append(time.perf_counter() - started)
                _check(page.status_code == 200, "inbox failed")
                _check(f'?key={smallest.key}"' not in page.text, "the handled group is still shown")
                served.append(_served(page.text))
                _check(cache.wait_idle(), "the background regroup did not end")
                behind.append(time.perf_counter() - started)
            print(f"inbox page right after a group was handled: {_median(handled)}; served: {', '.join(served)}")
            print(f"  ... the new complete grouping was ready after: {_median(behind)}")
            print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    return 0


def _served(html: str) -> str:
    """Which grouping the page showed."""
    if "La bandeja se está preparando" in html:
        return "none yet (preparing)"
    return "last complete grouping (actualizando)" if "Actualizando los grupos" in html else "current grouping"


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(what)


def _csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return found.group(1) if found else ""


if __name__ == "__main__":
    raise SystemExit(main())
