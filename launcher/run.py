"""``make run``: build what is missing, start everything, stop it all on Ctrl-C."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from launcher.stack import APP_PY, ROOT, Ports, Stack, run_until_interrupted
from launcher.train import ensure_model


def load_dotenv_file() -> None:
    """Reads ``.env`` (channel tokens and other settings) into the environment."""
    env_file = ROOT / ".env"
    if env_file.exists():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)


def ensure_dev_staff_token() -> str | None:
    """Outside production, a staff token for this run when none is configured, so the
    staff API at /docs can be tried at once. Printed once; never written to disk."""
    import os
    import secrets

    if os.environ.get("VENTANILLA_STAFF_TOKENS") or os.environ.get("VENTANILLA_ENV") == "production":
        return None
    token = secrets.token_urlsafe(24)
    os.environ["VENTANILLA_STAFF_TOKENS"] = f"{token}:admin"
    return token


def main() -> int:
    load_dotenv_file()
    import os

    from connectors.common.production import UnsafeProductionSettings, refuse_unsafe_production

    try:
        refuse_unsafe_production()  # before building or training anything
    except UnsafeProductionSettings as error:
        sys.exit(str(error))
    dev_token = ensure_dev_staff_token()

    var_dir = Path(os.environ.get("VENTANILLA_VAR_DIR", ROOT / "var"))
    kb_index_dir = os.environ.get("VENTANILLA_KB_INDEX_DIR", str(var_dir / "kb_index"))
    print("==> Índice de la base de conocimiento", flush=True)
    subprocess.run(
        [str(APP_PY), "-m", "knowledge_base.cli", "build", "--if-changed"],
        cwd=ROOT,
        check=True,
        env={
            **os.environ,
            "VENTANILLA_KB_INDEX_DIR": kb_index_dir,
        },
    )
    # The staff console's store: a fresh database takes the content files as published version 1,
    # files edited since the last sync are published, and the index is then built from the database
    # (knowledge_base/README.md, "The staff console and the files"). A divergence is reported, not fatal.
    print("==> Contenido de la consola (archivos <-> base de datos)", flush=True)
    synced = subprocess.run(
        [str(APP_PY), "-m", "backend.content.cli", "sync"],
        cwd=ROOT,
        check=False,
        env={**os.environ, "VENTANILLA_VAR_DIR": str(var_dir), "VENTANILLA_KB_INDEX_DIR": kb_index_dir},
    )
    if synced.returncode != 0:
        print("    aviso: hay trámites sin sincronizar (vea el mensaje de arriba); se sigue con lo publicado.")
    model = ensure_model(ROOT / "config.yml", ROOT / "models")
    stack = Stack(model=model, var_dir=var_dir, ports=Ports())
    print("==> Iniciando backend, servidor de acciones, Rasa y la página del chat...", flush=True)
    started = time.monotonic()
    stack.start(progress=lambda msg: print(f"    {msg}", flush=True))
    print(
        f"\n  Ventanilla está lista ({time.monotonic() - started:.0f} s).\n"
        f"  Chat web:        {stack.web_url}\n"
        f"  API REST de Rasa: {stack.rasa_url}/webhooks/rest/webhook\n"
        f"  Consola (staff):  {stack.backend_url}/console  (cuentas: python -m backend users create ...)\n"
        f"  API de personal:  {stack.backend_url}/docs\n"
        f"  Registros:        {var_dir / 'logs'}\n"
        + (f"  Token de personal (admin, solo para esta ejecución): {dev_token}\n" if dev_token else "")
        + "  Token de la API HTTP de Rasa (?token=..., p. ej. para devolver una conversación al bot): "
        + f"{stack.rasa_token}\n"
        + "  Ctrl-C para detener todo.\n",
        flush=True,
    )
    run_until_interrupted(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
