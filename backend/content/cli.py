"""``python -m backend.content.cli``: the files <-> database commands of the content store.

sync         take knowledge_base/content/*.yml into the database (fresh database: all as version 1),
             then rebuild the index from the published content if anything was taken (incrementally)
export       write published content back to the YAML files (refuses files edited by hand)
build-index  rebuild the search index from the database's published content (reusing stored vectors)
rollback     serve the previous index version again

Exit codes: 0 fine, 1 something was refused (the message names the procedures), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from backend.content import service
from backend.content.store import published_data
from backend.db import create_schema, make_engine, session_factory
from backend.settings import StoreSettings


def _report(report: service.SyncReport, *, refused_is_error: bool) -> int:
    """Prints what happened; exit code 1 when something needs a person (the procedures are named)."""
    for label, items in (("tomados de los archivos", report.imported), ("escritos en los archivos", report.exported)):
        print(f"{len(items)} trámite(s) {label}" + (f": {', '.join(items)}" if items else ""))
    print(f"{len(report.in_sync)} trámite(s) iguales en ambos lados")
    if report.refused:
        hint = "cambió el archivo: use 'sync'" if refused_is_error else "la consola tiene cambios: 'export' los escribe"
        print(f"Sin tocar ({hint}): {', '.join(report.refused)}", file=sys.stderr if refused_is_error else sys.stdout)
    if report.diverged:
        print(
            f"Cambiados en la consola Y en el archivo desde la última sincronización: {', '.join(report.diverged)}. "
            "Compare ambos, deje el archivo igual a lo publicado (o publique el archivo en la consola) y repita.",
            file=sys.stderr,
        )
    return 1 if report.diverged or (refused_is_error and report.refused) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.content.cli", description="Contenido de la consola")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("sync", "toma los archivos YAML en la base de datos"),
        ("export", "escribe lo publicado en los archivos YAML"),
        ("build-index", "reconstruye el índice desde lo publicado"),
        ("rollback", "vuelve a la versión anterior del índice"),
    ):
        sub.add_parser(name, help=text)
    args = parser.parse_args(argv)
    publisher = service.get_publisher()
    if args.command == "rollback":
        try:
            print(f"Índice vuelto a {service.rollback_index(publisher=publisher)}.")
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    engine = make_engine(StoreSettings().effective_database_url)
    create_schema(engine)
    session = session_factory(engine)()
    try:
        if args.command == "sync":
            report = service.sync_from_files(session)
            code = _report(report, refused_is_error=False)
            if report.imported:
                prepared = publisher.rebuild(published_data(session))
                print(
                    f"Índice {prepared.version} ({prepared.embedded} pasajes calculados, "
                    f"{prepared.reused} reutilizados)."
                )
            return code
        if args.command == "export":
            return _report(service.export_to_files(session), refused_is_error=True)
        prepared = publisher.rebuild(published_data(session))
        print(f"Índice {prepared.version} ({prepared.embedded} pasajes calculados, {prepared.reused} reutilizados).")
        return 0
    except service.ValidationFailed as exc:
        for field, message in exc.problems:
            print(f"error: {field}: {message}", file=sys.stderr)
        return 2
    finally:
        session.close()
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
