"""The production profile on one machine: several Rasa, action and backend processes behind nginx.

PostgreSQL holds the cases and Rasa's conversations (tracker store), Redis the lock
store and the channels' state; nginx (Debian's package with its njs module, run as
a child process with a generated configuration) routes each conversation to one Rasa
server. Used by the scale-out tests (tests/scaleout/) and by an operator who wants to
try the profile before deploying it (``python -m launcher.cluster``).

Processes are started and stopped by launcher.stack.Stack (this class only adds the
layout); their logs are in ``<var>/logs/<name>.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from launcher.nginx import NginxLayout, nginx_binary, render
from launcher.stack import APP_PY, Stack, free_port, run_until_interrupted


@dataclass
class ClusterPorts:
    """nginx's listeners (public, Rasa API, actions, backend) and each process's own port."""

    public: int
    rasa_api: int
    actions_lb: int
    backend_lb: int
    rasa: list[int]
    actions: list[int]
    backends: list[int]

    @classmethod
    def free(cls, rasa: int, actions: int, backends: int) -> ClusterPorts:
        def some(n: int) -> list[int]:
            return [free_port() for _ in range(n)]

        return cls(free_port(), free_port(), free_port(), free_port(), some(rasa), some(actions), some(backends))


@dataclass
class Cluster(Stack):
    """N Rasa servers, M action servers and K backends on shared PostgreSQL and Redis, behind nginx."""

    database_url: str = ""
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    layout: ClusterPorts = field(default_factory=lambda: ClusterPorts.free(2, 2, 1))

    @property
    def rasa_url(self) -> str:
        """Rasa's whole HTTP surface (API and webhooks) through nginx's internal listener."""
        return f"http://127.0.0.1:{self.layout.rasa_api}"

    @property
    def public_url(self) -> str:
        """What citizens' channels reach: /webhooks/* and /socket.io/ only."""
        return f"http://127.0.0.1:{self.layout.public}"

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.backend_lb}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.actions_lb}"

    def environment(self) -> dict[str, str]:
        if not self.database_url.startswith("postgresql://"):
            raise ValueError("el perfil de producción necesita PostgreSQL (database_url postgresql://...)")
        env = super().environment()
        env.update(
            {
                "VENTANILLA_DATABASE_URL": self.database_url,
                "VENTANILLA_TRACKER_URL": self.database_url,
                "VENTANILLA_LOCK_STORE": "redis",
                "VENTANILLA_LOCK_STORE_HOST": self.redis_host,
                "VENTANILLA_LOCK_STORE_PORT": str(self.redis_port),
                "VENTANILLA_REDIS_URL": f"redis://{self.redis_host}:{self.redis_port}/0",
                # Analytics events: Rasa's Pika broker -> RabbitMQ -> backend.analytics.consumer.
                "VENTANILLA_EVENT_BROKER": "pika",
            }
        )
        env.update(self.extra_env)
        return env

    def nginx_layout(self) -> NginxLayout:
        local = [f"127.0.0.1:{port}" for port in self.layout.rasa]
        return NginxLayout(
            public_listen=f"127.0.0.1:{self.layout.public}",
            rasa_listen=f"127.0.0.1:{self.layout.rasa_api}",
            rasa=local,
            actions=[f"127.0.0.1:{port}" for port in self.layout.actions],
            actions_listen=f"127.0.0.1:{self.layout.actions_lb}",
            backends=[f"127.0.0.1:{port}" for port in self.layout.backends],
            backend_listen=f"127.0.0.1:{self.layout.backend_lb}",
            prefix=str(self.var_dir / "nginx"),
            error_log=str(self.var_dir / "logs" / "nginx-error.log"),
            worker_processes="1",
            expose_upstream=True,
        )

    def write_nginx_conf(self) -> Path:
        prefix = self.var_dir / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(render(self.nginx_layout()))
        return conf

    def start(self, timeout: float = 300.0, progress=lambda _msg: None) -> Cluster:  # type: ignore[no-untyped-def]
        binary = nginx_binary()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        from launcher.credentials import write_credentials

        credentials = write_credentials(self.var_dir, self.environment())
        conf = self.write_nginx_conf()
        try:
            backends = [
                self._spawn(
                    f"backend-{i}",
                    [str(APP_PY), "-m", "backend"],
                    f"http://127.0.0.1:{port}/health",
                    {"VENTANILLA_BACKEND_PORT": str(port)},
                )
                for i, port in enumerate(self.layout.backends[:1])
            ]
            # The first backend migrates the database; the others start once it is done.
            self._wait_healthy(backends[0], timeout)
            backends += [
                self._spawn(
                    f"backend-{i}",
                    [str(APP_PY), "-m", "backend"],
                    f"http://127.0.0.1:{port}/health",
                    {"VENTANILLA_BACKEND_PORT": str(port)},
                )
                for i, port in enumerate(self.layout.backends[1:], start=1)
            ]
            consumer_port = free_port()
            consumer = self._spawn(
                "analytics-consumer",
                [str(APP_PY), "-m", "backend.analytics.consumer"],
                f"http://127.0.0.1:{consumer_port}/metrics",
                {"VENTANILLA_CONSUMER_METRICS_PORT": str(consumer_port)},
            )
            actions = [
                self._spawn(
                    f"actions-{i}",
                    [str(APP_PY), "-m", "actions.server"],
                    f"http://127.0.0.1:{port}/health",
                    {"VENTANILLA_ACTION_PORT": str(port)},
                )
                for i, port in enumerate(self.layout.actions)
            ]
            rasa = [
                self._spawn(
                    f"rasa-{i}",
                    self.rasa_argv(port, credentials),
                    f"http://127.0.0.1:{port}/health",
                    # Each Rasa server calls the action guard on itself (connectors/action_guard.py).
                    {"VENTANILLA_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{port}/internal/actions/webhook"},
                )
                for i, port in enumerate(self.layout.rasa)
            ]
            nginx = self._spawn(
                "nginx",
                [binary, "-c", str(conf), "-p", str(conf.parent), "-e", str(self.var_dir / "logs" / "nginx-error.log")],
                f"{self.public_url}/nginx-health",
            )
            for process in [*backends, consumer, *actions, *rasa, nginx]:
                progress(f"Esperando a {process.name}...")
                self._wait_healthy(process, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """SIGKILL a process and its children (a crash, not a shutdown) and wait for it; unlike
        Stack.kill the process stays listed, so a test can read its return code."""
        process = self.process(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.popen.pid, sig)
        process.popen.wait()


def main(argv: list[str] | None = None) -> int:
    """Starts the profile with the shipped model until Ctrl-C (for an operator's trial)."""
    from launcher.stack import ROOT
    from launcher.train import ensure_model

    parser = argparse.ArgumentParser(description="Ventanilla's production profile on this machine.")
    parser.add_argument("--database-url", default=os.environ.get("VENTANILLA_DATABASE_URL", ""))
    parser.add_argument("--rasa", type=int, default=2)
    parser.add_argument("--actions", type=int, default=2)
    parser.add_argument("--backends", type=int, default=2)
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "cluster")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql://"):
        parser.error("--database-url (o VENTANILLA_DATABASE_URL) debe ser una URL postgresql://")
    cluster = Cluster(
        model=ensure_model(ROOT / "config.yml", ROOT / "models"),
        var_dir=args.var_dir,
        database_url=args.database_url,
        layout=ClusterPorts.free(args.rasa, args.actions, args.backends),
        with_web=False,
    )
    cluster.start(progress=lambda msg: print(f"    {msg}", flush=True))
    print(
        f"Listo. Canales: {cluster.public_url}/webhooks/...  "
        f"API de Rasa: {cluster.rasa_url} (token {cluster.rasa_token})"
    )
    run_until_interrupted(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
