"""``kb``: the staff command line for the knowledge base.

    kb validate                 check every procedure file, report all problems
    kb build [--source FILE --index-dir DIR]
    kb search "pregunta" [--top-k N] [--json]
    kb stats                    coverage of the catalog and stale entries
    kb eval QUESTIONS.jsonl [--index-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from knowledge_base.settings import PROJECT_ROOT, SearchSettings



def _settings(args: argparse.Namespace) -> SearchSettings:
    overrides = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    return SearchSettings(**overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    from knowledge_base.content import load_content

    settings = _settings(args)
    procedures, problems = load_content(settings.content_dir, stale_after_days=settings.stale_after_days)
    for problem in problems:
        print(problem)
    print(f"{len(procedures)} trámites leídos, {len(problems)} problema(s).")
    return 1 if problems else 0


def _content_documents(settings: SearchSettings):  # type: ignore[no-untyped-def]
    from knowledge_base.content import load_content
    from knowledge_base.index import DocumentMeta
    from knowledge_base.passages import all_passages

    procedures, problems = load_content(settings.content_dir, stale_after_days=settings.stale_after_days)
    for problem in problems:
        print(f"aviso: {problem}", file=sys.stderr)
    documents = {
        p.id: DocumentMeta(p.title, str(p.source_url), p.last_reviewed.isoformat()) for p in procedures
    }
    return all_passages(procedures), documents


def content_fingerprint(settings: SearchSettings) -> str:
    """Changes whenever a content file or the embedding back end changes."""
    import hashlib

    digest = hashlib.sha256(f"{settings.embedder}:{settings.model}".encode())
    for path in sorted(settings.content_dir.glob("*.yml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cmd_build(args: argparse.Namespace) -> int:
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import build_index, current_manifest

    settings = _settings(args)
    fingerprint = "" if args.source else content_fingerprint(settings)
    if args.if_changed and fingerprint:
        manifest = current_manifest(settings.index_dir) or {}
        if manifest.get("source_fingerprint") == fingerprint:
            print(f"==> Índice al día ({manifest.get('version')}).")
            return 0
    if args.source:
        from knowledge_base.importer import read_source

        passages, documents = read_source(Path(args.source))
    else:
        passages, documents = _content_documents(settings)
    embedder = make_embedder(settings.embedder, settings.model)
    build_index(
        passages,
        documents,
        embedder,
        settings.index_dir,
        hnsw_min_size=settings.hnsw_min_size,
        progress=lambda msg: print(msg, flush=True),
        source_fingerprint=fingerprint,
    )
    return 0


def _searcher(settings: SearchSettings):  # type: ignore[no-untyped-def]
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import load_index
    from knowledge_base.search import Searcher

    return Searcher(load_index(settings.index_dir), make_embedder(settings.embedder, settings.model), settings)


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    result = _searcher(settings).search(args.question, top_k=args.top_k)
    shown = result.hits or result.closest
    if args.json:
        print(json.dumps({
            "abstained": result.abstained,
            "hits": [
                {"procedure_id": h.procedure_id, "title": h.document.title, "score": round(h.score, 4),
                 "passage_id": h.passage.passage_id, "label": h.passage.label, "text": h.passage.text}
                for h in shown
            ],
        }, ensure_ascii=False, indent=1))
        return 0
    if result.abstained:
        print("Sin respuesta segura (la búsqueda se abstiene). Lo más cercano:")
    for h in shown:
        print(f"{h.score:.3f}  {h.procedure_id}  [{h.passage.label}]")
        print(f"       {h.passage.text[:160]}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    import yaml

    from knowledge_base.content import load_content
    from knowledge_base.passages import all_passages

    settings = _settings(args)
    procedures, problems = load_content(settings.content_dir, stale_after_days=settings.stale_after_days)
    catalog_path = Path(args.catalog) if args.catalog else settings.content_dir.parent / "catalog.yml"
    print(f"Trámites con contenido: {len(procedures)}")
    print(f"Preguntas frecuentes: {sum(len(p.faqs) for p in procedures)}")
    print(f"Pasajes indexables: {len(all_passages(procedures))}")
    if catalog_path.exists():
        ids = {p["id"] for p in yaml.safe_load(catalog_path.read_text())["procedures"]}
        missing = sorted(ids - {p.id for p in procedures})
        print(f"Cobertura del catálogo: {len(ids) - len(missing)}/{len(ids)}")
        for pid in missing:
            print(f"  falta: {pid}")
    today = date.today()
    stale = [p for p in procedures if (today - p.last_reviewed).days > settings.stale_after_days]
    print(f"Entradas sin revisar hace más de {settings.stale_after_days} días: {len(stale)}")
    for p in stale:
        print(f"  {p.id}: revisado {p.last_reviewed}")
    print(f"Problemas de validación: {len(problems)}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from knowledge_base.evaluation import evaluate, load_questions

    settings = _settings(args)
    metrics = evaluate(_searcher(settings), load_questions(Path(args.questions)))
    if args.json:
        print(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            print(f"{key:>16}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="Base de conocimiento de Ventanilla")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="valida todos los archivos de trámites")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("build", help="construye el índice de búsqueda")
    p.add_argument("--source", help="archivo CSV/XLSX/JSONL/TXT/MD a indexar en lugar del contenido")
    p.add_argument("--index-dir", help="carpeta del índice")
    p.add_argument("--if-changed", action="store_true", help="no reconstruir si el contenido no cambió")
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
    p = sub.add_parser("eval", help="evalúa un índice con preguntas JSONL")
    p.add_argument("questions")
    p.add_argument("--index-dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
