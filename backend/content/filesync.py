"""Keeping ``knowledge_base/content/*.yml`` and the database consistent, never silently.

Each procedure remembers ``synced_hash``: the content hash both sides agreed on at the
last sync. Comparing it with the file's hash and the published version's hash says who
changed since then:

=================  ==================  =======================================================
file vs synced     database vs synced  what happens
=================  ==================  =======================================================
same               same                in sync
changed            same                ``sync_from_files``: the file becomes a new published
                                       version; ``export_to_files`` refuses (would undo the file)
same               changed             ``export_to_files`` writes the file; ``sync_from_files``
                                       leaves it (the database is ahead)
changed            changed             diverged: both refuse and name the procedure
=================  ==================  =======================================================

A fresh database takes every file as published version 1. A file whose id is not in
the database is added as published; a procedure only in the database is exported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from backend.content import store
from backend.content.errors import ValidationFailed
from backend.content.models import ContentProcedure, ContentVersion
from backend.content.rendering import canonical, content_hash, to_yaml
from backend.content.types import SyncReport
from backend.models import utcnow
from knowledge_base.schema import Procedure
from knowledge_base.settings import SearchSettings


def _file_data(path: Path) -> dict[str, Any]:
    try:
        return canonical(Procedure.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValidationFailed(
            [(path.name, f"archivo inválido; corríjalo con 'kb validate': {exc}".replace("\n", " "))]
        ) from exc


def _publish_from_file(
    session: Session, procedure: ContentProcedure | None, pid: str, data: dict[str, Any], actor: str
) -> None:
    now = utcnow()
    digest = content_hash(data)
    if procedure is None:
        procedure = ContentProcedure(id=pid, revision=1, created_at=now, updated_at=now)
        session.add(procedure)
        session.flush()
    row = ContentVersion(
        procedure_id=pid,
        number=store.next_number(session, pid),
        status="published",
        data=data,
        content_hash=digest,
        authors=[actor],
        created_at=now,
        updated_at=now,
        reviewed_by=actor,
        published_at=now,
    )
    session.add(row)
    session.flush()
    store.install_published(session, procedure, row, actor, action="published_from_file")
    procedure.synced_hash = digest
    procedure.revision += 1


def _states(
    session: Session, content_dir: Path
) -> tuple[dict[str, tuple[Path, dict[str, Any]]], dict[str, ContentProcedure], dict[str, dict[str, Any]]]:
    files = {path.stem: (path, _file_data(path)) for path in sorted(content_dir.glob("*.yml"))}
    procedures = {p.id: p for p in session.query(ContentProcedure)}
    return files, procedures, store.published_data(session)


def sync_from_files(session: Session, *, content_dir: Path | None, actor: str) -> SyncReport:
    content_dir = content_dir or SearchSettings().content_dir
    files, procedures, published = _states(session, content_dir)
    imported, in_sync, diverged, ahead = [], [], [], []
    for pid, (_, data) in files.items():
        file_hash = content_hash(data)
        procedure = procedures.get(pid)
        db_hash = content_hash(published[pid]) if pid in published else None
        synced = procedure.synced_hash if procedure else None
        if db_hash == file_hash:
            if procedure is not None and synced != file_hash:
                procedure.synced_hash = file_hash
            in_sync.append(pid)
        elif procedure is None or (db_hash is None and synced is None) or db_hash == synced:
            _publish_from_file(session, procedure, pid, data, actor)
            imported.append(pid)
        elif file_hash == synced:
            ahead.append(pid)  # the database is ahead: export_to_files writes the file
        else:
            diverged.append(pid)
    session.commit()
    return SyncReport(imported=imported, exported=[], in_sync=in_sync, diverged=diverged, refused=ahead)


def export_to_files(session: Session, *, content_dir: Path | None, actor: str) -> SyncReport:
    content_dir = content_dir or SearchSettings().content_dir
    files, procedures, published = _states(session, content_dir)
    exported: list[str] = []
    in_sync: list[str] = []
    diverged: list[str] = []
    refused: list[str] = []
    for pid, data in sorted(published.items()):
        db_hash = content_hash(data)
        procedure = procedures[pid]
        if pid not in files:
            if procedure.synced_hash is not None:
                refused.append(pid)  # its file was deleted by hand: not recreated silently
                continue
        else:
            file_hash = content_hash(files[pid][1])
            if file_hash == db_hash:
                procedure.synced_hash = db_hash
                in_sync.append(pid)
                continue
            if file_hash != procedure.synced_hash:
                (diverged if db_hash != procedure.synced_hash else refused).append(pid)
                continue
        target = content_dir / f"{pid}.yml"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(to_yaml(data), encoding="utf-8")
        tmp.replace(target)
        procedure.synced_hash = db_hash
        store.audit(
            session,
            actor=actor,
            action="exported_to_file",
            procedure_id=pid,
            after={"file": target.name, "hash": db_hash},
        )
        exported.append(pid)
    session.commit()
    return SyncReport(imported=[], exported=exported, in_sync=in_sync, diverged=diverged, refused=refused)


def seed_if_empty(session: Session, *, content_dir: Path | None = None) -> bool:
    """On a fresh database, takes the files as published version 1 of every procedure."""
    if session.query(ContentProcedure).first() is not None:
        session.rollback()
        return False
    sync_from_files(session, content_dir=content_dir, actor="archivos")
    return True
