"""``kb``: the staff command line for the knowledge base (see knowledge_base/README.md).

kb validate                 check every procedure file, import and rule file; report all problems
kb build [--if-changed]     index the procedures and imported content
kb build --source FILE --index-dir DIR
                            index one CSV/XLSX/JSONL/MD/TXT file alone
kb search "pregunta" [--top-k N] [--json]
kb stats                    coverage of the catalog and stale entries
kb import FILE [--dry-run]  bulk FAQ sheets and documents into knowledge_base/imported/
kb rollback [--index-dir DIR]  serve the previous index version again
kb eval QUESTIONS.jsonl [--index-dir DIR] [--json] [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from knowledge_base.settings import SearchSettings

DATABASE_SOURCE = "database"  # manifest mark of an index published by the staff console


def _settings(args: argparse.Namespace) -> SearchSettings:
    overrides: dict[str, Any] = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    return SearchSettings(**overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    from knowledge_base.corpus import load_corpus

    corpus = load_corpus(_settings(args))
    for problem in corpus.problems:
        print(problem)
    procedures = sum(1 for d in corpus.documents.values() if d.kind == "procedure")
    print(f"{procedures} trámites leídos, {len(corpus.problems)} problema(s).")
    return 1 if corpus.problems else 0


def _prepare_e5_runtime(settings: SearchSettings) -> None:
    """Exports e5's ONNX graph now (when that runtime is chosen), so the action server need not."""
    from knowledge_base.embedders import ONNX_VARIANT

    if settings.embedder == "e5" and settings.e5_runtime in ONNX_VARIANT:
        from knowledge_base.embedders.e5_onnx import ensure_exported

        ensure_exported(settings.e5_onnx_dir, ONNX_VARIANT[settings.e5_runtime])


def cmd_build(args: argparse.Namespace) -> int:
    from knowledge_base.corpus import fingerprint, load_corpus, search_aids
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import build_index, current_manifest

    settings = _settings(args)
    if args.source:
        from knowledge_base.importer import read_source

        if not args.index_dir:
            raise ValueError("Con --source indique también --index-dir (el índice del contenido no se reemplaza).")
        passages, documents = read_source(Path(args.source))
        rewriter, out_of_scope, problems = search_aids(settings)
        stamp = ""
    else:
        stamp = fingerprint(settings)
        manifest = current_manifest(settings.index_dir) or {}
        if manifest.get("source_fingerprint") == DATABASE_SOURCE and not args.from_files:
            # Once the staff console publishes, the database is the index's source: a build from
            # the files would silently undo what was published (knowledge_base/README.md).
            print(
                "==> El índice lo publica la consola (base de datos); no se reconstruye desde los archivos. "
                "Use 'python -m backend.content.cli build-index', o 'kb build --from-files' para forzarlo."
            )
            return 0 if args.if_changed else 1
        if args.if_changed and manifest.get("source_fingerprint") == stamp:
            _prepare_e5_runtime(settings)
            print(f"==> Índice al día ({manifest.get('version')}).")
            return 0
        corpus = load_corpus(settings)
        passages, documents, rewriter, out_of_scope, problems = (
            corpus.passages,
            corpus.documents,
            corpus.rewriter,
            corpus.out_of_scope,
            corpus.problems,
        )
    for problem in problems:
        print(f"aviso: {problem}", file=sys.stderr)
    embedder = make_embedder(settings.embedder, settings.model, threads=settings.build_threads)
    build_index(
        passages,
        documents,
        embedder,
        settings.index_dir,
        hnsw_min_size=settings.hnsw_min_size,
        out_of_scope=out_of_scope,
        rewriter=rewriter,
        progress=lambda msg: print(msg, flush=True),
        source_fingerprint=stamp,
        model=settings.model,
    )
    return 0


def _searcher(settings: SearchSettings):  # type: ignore[no-untyped-def]
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import load_index
    from knowledge_base.search import Searcher

    index = load_index(settings.index_dir)
    # Any index can be searched: the embedder is the one it was built with (see its manifest).
    embedder = make_embedder(
        str(index.manifest.get("embedder", settings.embedder)), str(index.manifest.get("model", settings.model))
    )
    return Searcher(index, embedder, settings)


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    result = _searcher(settings).search(args.question, top_k=args.top_k)
    shown = result.hits or result.closest
    if args.json:
        print(
            json.dumps(
                {
                    "abstained": result.abstained,
                    "confidence": round(result.confidence, 4),
                    "rewritten": result.rewritten,
                    "hits": [
                        {
                            "procedure_id": h.procedure_id,
                            "title": h.document.title,
                            "score": round(h.score, 4),
                            "passage_id": h.passage.passage_id,
                            "label": h.passage.label,
                            "text": h.passage.text,
                            "source_url": h.document.source_url,
                            "last_reviewed": h.document.last_reviewed,
                        }
                        for h in shown
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if result.rewritten != result.query:
        print(f"(buscado como: {result.rewritten})")
    if result.abstained:
        print(f"Sin respuesta segura (confianza {result.confidence:.3f}): la búsqueda se abstiene. Lo más cercano:")
    else:
        print(f"Confianza {result.confidence:.3f}")
    for h in shown:
        print(f"{h.score:.3f}  {h.procedure_id}  [{h.passage.label}]")
        print(f"       {h.passage.text[:160]}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    import yaml

    from knowledge_base.corpus import load_corpus

    settings = _settings(args)
    corpus = load_corpus(settings)
    procedures = {k: d for k, d in corpus.documents.items() if d.kind == "procedure"}
    faqs = sum(1 for p in corpus.passages if p.kind == "faq")
    imported = sum(1 for p in corpus.passages if "#" in p.passage_id and ":" in p.passage_id.split("#", 1)[1])
    print(f"Trámites con contenido: {len(procedures)}")
    print(f"Preguntas frecuentes: {faqs}")
    print(f"Pasajes indexables: {len(corpus.passages)} (importados: {imported})")
    print(f"Documentos importados aparte: {len(corpus.documents) - len(procedures)}")
    catalog_path = Path(args.catalog) if args.catalog else settings.catalog_file
    if catalog_path.exists():
        ids = {p["id"] for p in yaml.safe_load(catalog_path.read_text(encoding="utf-8"))["procedures"]}
        missing = sorted(ids - set(procedures))
        print(f"Cobertura del catálogo: {len(ids) - len(missing)}/{len(ids)}")
        for pid in missing:
            print(f"  falta: {pid}")
    today = date.today()
    stale = sorted(
        (k, d.last_reviewed)
        for k, d in corpus.documents.items()
        if (today - date.fromisoformat(d.last_reviewed)).days > settings.stale_after_days
    )
    print(f"Entradas sin revisar hace más de {settings.stale_after_days} días: {len(stale)}")
    for key, reviewed in stale:
        print(f"  {key}: revisado {reviewed}")
    print(f"Problemas de validación: {len(corpus.problems)} (detalle con 'kb validate')")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from knowledge_base.content import load_content
    from knowledge_base.importer import import_file
    from knowledge_base.index import DocumentMeta

    settings = _settings(args)
    procedures, _ = load_content(settings.content_dir, stale_after_days=settings.stale_after_days)
    known = {p.id: DocumentMeta(p.title, str(p.source_url), p.last_reviewed.isoformat()) for p in procedures}
    report = import_file(Path(args.file), settings.imported_dir, known, dry_run=args.dry_run, name=args.name)
    mode = " (simulación: no se escribe nada)" if args.dry_run else ""
    print(f"Importación de {args.file} -> {report.target}{mode}")
    for line in report.lines():
        print(line)
    if not args.dry_run:
        print("Listo. Ejecute 'kb build' para actualizar el índice de búsqueda.")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from knowledge_base.evaluation import load_questions, metrics_at, miss_kind, run_questions

    settings = _settings(args)
    searcher = _searcher(settings)
    threshold = searcher.tuning.abstain_threshold
    outcomes = run_questions(searcher, load_questions(Path(args.questions)))
    metrics = metrics_at(outcomes, threshold)
    if args.json:
        print(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            print(f"{key:>16}: {value}")
    if args.misses:
        # With --json, stdout stays exactly the metrics object: the list goes to stderr.
        out = sys.stderr if args.json else sys.stdout
        for o in outcomes:
            kind = miss_kind(o, threshold)
            if kind is not None:
                ranked = ", ".join(o.ranked) or "-"
                print(
                    f"{kind:>15}  {o.confidence:6.3f}  esperado={o.question.expected or 'abstenerse'}  "
                    f"obtenido=[{ranked}]  {o.question.question}",
                    file=out,
                )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from knowledge_base.index import rollback

    print(f"Índice vuelto a {rollback(_settings(args).index_dir)} (la versión anterior sigue en disco).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="Base de conocimiento de Ventanilla")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="valida los trámites, lo importado y las reglas de búsqueda")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("build", help="construye el índice de búsqueda")
    p.add_argument("--source", help="archivo CSV/XLSX/JSONL/MD/TXT a indexar solo, en lugar del contenido")
    p.add_argument("--index-dir", help="carpeta del índice")
    p.add_argument("--if-changed", action="store_true", help="no reconstruir si nada cambió")
    p.add_argument(
        "--from-files", action="store_true", help="reconstruir desde los archivos aunque la consola publique el índice"
    )
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("search", help="busca una pregunta")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--index-dir")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("stats", help="cobertura y entradas sin revisar")
    p.add_argument("--catalog", help="catálogo de trámites (YAML) para medir cobertura")
    p.set_defaults(func=cmd_stats)
    p = sub.add_parser("import", help="importa preguntas frecuentes (CSV/XLSX/JSONL) o documentos (MD/TXT)")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="muestra qué cambiaría, sin escribir nada")
    p.add_argument("--name", help="nombre del conjunto importado (por defecto, el del archivo)")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("rollback", help="vuelve a servir la versión anterior del índice")
    p.add_argument("--index-dir")
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser("eval", help="evalúa un índice con preguntas JSONL")
    p.add_argument("questions")
    p.add_argument("--index-dir")
    p.add_argument("--json", action="store_true")
    p.add_argument("--misses", action="store_true", help="lista las preguntas mal resueltas, con su confianza")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, ValueError) as exc:  # ImportFailed is a ValueError with every problem
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
