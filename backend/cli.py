"""Console scripts: ``ventanilla-privacy`` (export / erase one citizen) and ``ventanilla-retention``.

The document number is read from standard input (or a hidden prompt) rather than
the command line, so it does not end up in shell history or the process list.
Output is JSON on stdout; messages for the operator go to stderr, in Spanish.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.analytics import forget as analytics
from backend.conversations import forget_idle_conversations, forget_senders, tracker_engine
from backend.db import create_schema, make_engine
from backend.hashing import normalize_document
from backend.privacy import apply_retention, cases_of_document, erase_citizen, export_citizen
from backend.settings import StoreSettings
from backend.unanswered import store as unanswered


def _read_document(args: argparse.Namespace) -> str:
    value: str
    if args.document:
        value = args.document
    elif sys.stdin.isatty():
        value = getpass.getpass("Número de documento del ciudadano: ")
    else:
        value = sys.stdin.readline()
    value = value.strip()
    if len(normalize_document(value)) < 4:
        raise SystemExit("Error: el número de documento está vacío o es demasiado corto.")
    return value


def _sessions(settings: StoreSettings) -> sessionmaker[Session]:
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    return sessionmaker(engine, expire_on_commit=False)


def _tracker_engine(settings: StoreSettings) -> Engine:
    """Rasa's conversation store (not migrated by us: Rasa owns its schema)."""
    return tracker_engine(settings.effective_tracker_url)


def privacy_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ventanilla-privacy",
        description="Exporta o borra los datos personales de un ciudadano (por número de documento).",
    )
    parser.add_argument("--actor", default="cli:privacy", help="quién ejecuta la operación (queda en la auditoría)")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="exporta en JSON todos los datos del ciudadano")
    export.add_argument("--document", help="número de documento (mejor por la entrada estándar)")
    export.add_argument("--output", type=Path, help="archivo de salida (por defecto, la salida estándar)")
    erase = sub.add_parser("erase", help="borra los datos personales; los trámites quedan como estadística anónima")
    erase.add_argument("--document", help="número de documento (mejor por la entrada estándar)")
    erase.add_argument("--yes", action="store_true", help="confirma el borrado (sin esto no se borra nada)")
    args = parser.parse_args(argv)

    settings = StoreSettings()
    document = _read_document(args)
    sessions = _sessions(settings)
    if args.command == "export":
        with sessions.begin() as session:
            data = export_citizen(session, hash_key=settings.case_hash_key, document_number=document, actor=args.actor)
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if args.output:
            args.output.write_text(text + "\n", encoding="utf-8")
            print(f"Exportados {len(data['tramites'])} trámites a {args.output}.", file=sys.stderr)
        else:
            print(text)
        return 0
    if not args.yes:
        print("No se borró nada: agregue --yes para confirmar el borrado.", file=sys.stderr)
        return 2
    with sessions.begin() as session:
        cases = cases_of_document(session, hash_key=settings.case_hash_key, document_number=document)
        senders = {case.sender_hash for case in cases if case.sender_hash}
        codes = erase_citizen(session, hash_key=settings.case_hash_key, document_number=document, actor=args.actor)
    tracker = _tracker_engine(settings)
    try:
        conversations = forget_senders(tracker, hash_key=settings.case_hash_key, sender_hashes=senders)
    finally:
        tracker.dispose()
    print(json.dumps({"anonimizados": codes, "conversaciones_borradas": conversations}, ensure_ascii=False))
    print(f"Datos personales borrados de {len(codes)} trámites y {conversations} conversaciones.", file=sys.stderr)
    return 0


def retention_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ventanilla-retention",
        description="Borra los datos personales de los trámites cerrados hace más de N días "
        "y las conversaciones inactivas y las preguntas sin respuesta antiguas.",
    )
    parser.add_argument("--days", type=int, help="días de retención (por defecto VENTANILLA_RETENTION_DAYS)")
    parser.add_argument(
        "--conversation-days",
        type=int,
        help="días sin actividad tras los que se borra una conversación "
        "(por defecto VENTANILLA_CONVERSATION_RETENTION_DAYS)",
    )
    parser.add_argument(
        "--unanswered-days",
        type=int,
        help="días tras los que se borra una pregunta sin respuesta de la bandeja "
        "(por defecto VENTANILLA_UNANSWERED_RETENTION_DAYS)",
    )
    parser.add_argument(
        "--analytics-days",
        type=int,
        help="días tras los que se borran los eventos de estadísticas sin agregar "
        "(por defecto VENTANILLA_ANALYTICS_RETENTION_DAYS; las cifras diarias se conservan)",
    )
    parser.add_argument("--dry-run", action="store_true", help="solo muestra qué se borraría")
    args = parser.parse_args(argv)
    settings = StoreSettings()
    days = settings.retention_days if args.days is None else args.days
    conversation_days = (
        settings.conversation_retention_days if args.conversation_days is None else args.conversation_days
    )
    unanswered_days = settings.unanswered_retention_days if args.unanswered_days is None else args.unanswered_days

    analytics_days = settings.analytics_retention_days if args.analytics_days is None else args.analytics_days
    if days < 0 or conversation_days < 0 or unanswered_days < 0 or analytics_days < 0:
        raise SystemExit("Error: los días de retención no pueden ser negativos.")
    sessions = _sessions(settings)
    with sessions.begin() as session:
        codes = apply_retention(session, days=days, actor="cli:retention", dry_run=args.dry_run)
        questions = unanswered.forget_older_than(
            session, older_than=datetime.now(timezone.utc) - timedelta(days=unanswered_days), dry_run=args.dry_run
        )
        events, idle = analytics.apply_retention(
            session, days=analytics_days, now=datetime.now(timezone.utc), dry_run=args.dry_run
        )
    tracker = _tracker_engine(settings)
    try:
        cutoff = datetime.now(timezone.utc) - timedelta(days=conversation_days)
        conversations = forget_idle_conversations(tracker, older_than=cutoff, dry_run=args.dry_run)
    finally:
        tracker.dispose()
    summary = {
        "dias": days,
        "dias_conversaciones": conversation_days,
        "dry_run": args.dry_run,
        "tramites": codes,
        "conversaciones": conversations,
        "dias_preguntas_sin_respuesta": unanswered_days,
        "preguntas_sin_respuesta": questions,
        "dias_estadisticas": analytics_days,
        "eventos_de_estadisticas": events,
        "conversaciones_de_estadisticas": idle,
    }
    print(json.dumps(summary, ensure_ascii=False))
    verb = "se borrarían" if args.dry_run else "borrados"
    print(
        f"Datos personales {verb}: {len(codes)} trámites, {conversations} conversaciones, "
        f"{questions} preguntas sin respuesta y {events} eventos de estadísticas.",
        file=sys.stderr,
    )
    return 0
