"""Starts and stops Ventanilla's processes: backend, action server, Rasa, web page.

Used by ``make run`` (launcher/run.py) and by the end-to-end tests, so the tests
start the system exactly the way people do, only on free ports and a scratch
``var/`` directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
APP_PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
# The store variables of bot/endpoints.yml and their embedded (one Rasa server) values;
# the environment may override them (launcher/cluster.py, deploy/).
EMBEDDED_STORES = {
    "VENTANILLA_TRACKER_URL": "",
    "VENTANILLA_LOCK_STORE": "in_memory",
    "VENTANILLA_LOCK_STORE_HOST": "127.0.0.1",
    "VENTANILLA_LOCK_STORE_PORT": "6379",
    "VENTANILLA_LOCK_STORE_DB": "1",
    "VENTANILLA_LOCK_STORE_PASSWORD": "",
    # Analytics events (connectors/event_broker.py): Rasa's SQL broker, drained by the backend.
    "VENTANILLA_EVENT_BROKER": "sql",
    "VENTANILLA_RABBITMQ_HOST": "127.0.0.1",
    "VENTANILLA_RABBITMQ_PORT": "5672",
    "VENTANILLA_RABBITMQ_USERNAME": "guest",
    "VENTANILLA_RABBITMQ_PASSWORD": "guest",
    "VENTANILLA_RABBITMQ_QUEUE": "ventanilla-analytics",
}


def rasa_run_argv(
    rasa: str, model: Path, credentials: Path, port: int, token: str, interface: str = "127.0.0.1"
) -> list[str]:
    """``rasa run`` as every Ventanilla Rasa server runs it (local stack, cluster, container):
    HTTP API on behind ``token``, bot/endpoints.yml, the rendered credentials."""
    return [
        rasa,
        "run",
        "--enable-api",
        "--interface",
        interface,
        "--port",
        str(port),
        "--model",
        str(model),
        "--endpoints",
        str(ROOT / "bot" / "endpoints.yml"),
        "--credentials",
        str(credentials),
        "--cors",
        "*",
        "--auth-token",
        token,
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    backend: int = 8000
    web: int = 8080

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port())


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    health_url: str
    log: IO[bytes]


@dataclass
class Stack:
    """One running Ventanilla. Use as a context manager, or call start()/stop()."""

    model: Path
    var_dir: Path
    ports: Ports = field(default_factory=Ports)
    extra_env: dict[str, str] = field(default_factory=dict)
    with_web: bool = True
    processes: list[Process] = field(default_factory=list)
    # Rasa's HTTP API (trackers hold personal data) answers only with this token; the
    # channels (/webhooks/*, /socket.io) stay open. VENTANILLA_RASA_TOKEN, or one per run.
    rasa_token: str = ""

    def __post_init__(self) -> None:
        if not self.rasa_token:
            self.rasa_token = os.environ.get("VENTANILLA_RASA_TOKEN") or secrets.token_hex(16)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.backend}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}/"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                "VENTANILLA_VAR_DIR": str(self.var_dir),
                "VENTANILLA_KB_INDEX_DIR": env.get("VENTANILLA_KB_INDEX_DIR", str(self.var_dir / "kb_index")),
                "VENTANILLA_BACKEND_PORT": str(self.ports.backend),
                "VENTANILLA_BACKEND_URL": self.backend_url,
                "VENTANILLA_ACTION_PORT": str(self.ports.actions),
                "VENTANILLA_ACTION_SERVER_URL": f"{self.action_url}/webhook",
                # Rasa calls its own action guard (connectors/action_guard.py), which forwards here.
                "VENTANILLA_ACTION_ENDPOINT_URL": f"{self.rasa_url}/internal/actions/webhook",
                "VENTANILLA_RASA_URL": self.rasa_url,
                "VENTANILLA_RASA_TOKEN": self.rasa_token,
                "VENTANILLA_TRACKER_DIALECT": env.get("VENTANILLA_TRACKER_DIALECT", "sqlite"),
                "VENTANILLA_TRACKER_DB": env.get("VENTANILLA_TRACKER_DB", str(self.var_dir / "rasa_tracker.db")),
                "VENTANILLA_EVENT_DB": env.get("VENTANILLA_EVENT_DB", str(self.var_dir / "rasa_events.db")),
                # bot/endpoints.yml needs every variable it names; these defaults are the
                # embedded single-server stores (SQLite tracker, in-memory lock).
                **{name: env.get(name, value) for name, value in EMBEDDED_STORES.items()},
                "HF_HUB_OFFLINE": "1",
                # Rasa's telemetry and error reports would try to reach the internet.
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, argv: list[str], health_url: str, env: dict[str, str] | None = None) -> Process:
        """Starts one process in its own session (so stop() ends its children too), logging
        to ``var/logs/<name>.log``; ``env`` adds to ``environment()`` for this process only."""
        log_dir = self.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.environment(), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, popen, health_url, log)
        self.processes.append(process)
        return process

    def start(self, timeout: float = 300.0, progress=lambda _msg: None) -> Stack:  # type: ignore[no-untyped-def]
        from connectors.common.production import refuse_unsafe_production
        from launcher.credentials import write_credentials

        refuse_unsafe_production(self.environment())  # before anything starts
        self.var_dir.mkdir(parents=True, exist_ok=True)

        write_credentials(self.var_dir, self.environment())
        try:
            backend = self._spawn("backend", [str(APP_PY), "-m", "backend"], f"{self.backend_url}/health")
            actions = self._spawn("actions", [str(APP_PY), "-m", "actions.server"], f"{self.action_url}/health")
            rasa = self._spawn("rasa", self.rasa_argv(self.ports.rasa), f"{self.rasa_url}/health")
            waiting = [backend, actions, rasa]
            if self.with_web:
                waiting.append(
                    self._spawn(
                        "web",
                        [
                            str(APP_PY),
                            "-m",
                            "launcher.webpage",
                            "--port",
                            str(self.ports.web),
                            "--rasa-url",
                            self.rasa_url,
                        ],
                        f"http://127.0.0.1:{self.ports.web}/health",
                    )
                )
            for process in waiting:
                progress(f"Esperando a {process.name}...")
                self._wait_healthy(process, timeout)
                progress(f"{process.name} listo.")
        except BaseException:
            self.stop()
            raise
        return self

    def rasa_argv(self, port: int, credentials: Path | None = None) -> list[str]:
        """The command line of a Rasa server on ``port`` (API on, token required; ``--debug``
        when VENTANILLA_LOG_LEVEL=DEBUG, for the no-personal-data-in-logs tests)."""
        argv = rasa_run_argv(
            str(RASA), self.model, credentials or self.var_dir / "credentials.yml", port, self.rasa_token
        )
        if self.environment().get("VENTANILLA_LOG_LEVEL", "").upper() == "DEBUG":
            argv.append("--debug")
        return argv

    def process(self, name: str) -> Process:
        """The running process called ``name`` (KeyError if there is none)."""
        for process in self.processes:
            if process.name == name:
                return process
        raise KeyError(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Sends ``sig`` to one process's group (fault-injection tests); SIGKILL also reaps it."""
        process = self.process(name)
        os.killpg(process.popen.pid, sig)
        if sig == signal.SIGKILL:
            process.popen.wait()
            process.log.close()
            self.processes.remove(process)

    def restart_rasa(self, timeout: float = 300.0) -> None:
        """Starts Rasa again (after kill) with the same ports, model and settings."""
        rasa = self._spawn("rasa", self.rasa_argv(self.ports.rasa), f"{self.rasa_url}/health")
        self._wait_healthy(rasa, timeout)

    def start_extra_rasa(self, timeout: float = 300.0) -> str:
        """A second Rasa server with the same settings on a free port (multi-server tests); its URL."""
        port = free_port()
        extra = self._spawn(
            f"rasa-{port}",
            self.rasa_argv(port),
            f"http://127.0.0.1:{port}/health",
            # Its own action guard (connectors/action_guard.py) forwards to the same action server.
            env={"VENTANILLA_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{port}/internal/actions/webhook"},
        )
        self._wait_healthy(extra, timeout)
        return f"http://127.0.0.1:{port}"

    def restart_actions(self, timeout: float = 300.0) -> None:
        actions = self._spawn("actions", [str(APP_PY), "-m", "actions.server"], f"{self.action_url}/health")
        self._wait_healthy(actions, timeout)

    def _wait_healthy(self, process: Process, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(
                    f"{process.name} terminó con código {process.popen.returncode}; "
                    f"vea {self.var_dir / 'logs' / (process.name + '.log')}"
                )
            try:
                with urllib.request.urlopen(process.health_url, timeout=2) as resp:  # noqa: S310 - our own http://127.0.0.1 URL
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{process.name} no respondió a {process.health_url} en {timeout:.0f} s")

    def stop(self, grace: float = 15.0) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
            process.log.close()
        self.processes.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def run_until_interrupted(stack: Stack) -> None:
    """Keeps a started stack (or cluster) running until Ctrl-C or SIGTERM, or until one of its
    processes dies (an operator must not think a half-dead system is up), then stops it all."""
    stopping = False

    def _stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            for process in stack.processes:
                if process.popen.poll() is not None:
                    print(
                        f"!! {process.name} se detuvo (código {process.popen.returncode}); "
                        f"vea {stack.var_dir / 'logs'}",
                        flush=True,
                    )
                    stopping = True
            time.sleep(0.5)
    finally:
        print("==> Deteniendo...", flush=True)
        stack.stop()
        print("==> Listo.", flush=True)


def log_tail(var_dir: Path, name: str, lines: int = 40) -> str:
    path = var_dir / "logs" / f"{name}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":  # pragma: no cover - manual use
    sys.exit("Use `make run` (launcher/run.py).")
