"""Fixtures of the scale-out tests: nginx (Debian's, with njs) and the production profile.

The profile (launcher/cluster.py: two Rasa servers, two action servers and two
backends behind nginx, on PostgreSQL and Redis) is started once for the module that
uses it, in a scratch PostgreSQL schema, with the session's test model and index.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.scratch_schema import scratch_schema
from launcher.cluster import Cluster, ClusterPorts
from launcher.nginx import NginxLayout, NginxMissing, nginx_binary, render
from launcher.stack import log_tail
from tests.conftest import IN_CI


def require_nginx() -> str:
    """nginx with njs: skipped locally when missing, a failure in CI (make test installs it)."""
    try:
        return nginx_binary()
    except NginxMissing as exc:
        if IN_CI:
            pytest.fail(f"{exc}; en CI `make test` lo instala")
        pytest.skip(f"{exc}; instálelo para correr esta prueba")


@contextmanager
def started_cluster(
    *,
    model: Path,
    kb_index_dir: Path,
    postgres_url: str,
    redis_address: tuple[str, int],
    var_dir: Path,
    schema: str,
    layout: ClusterPorts,
    extra_env: dict[str, str],
) -> Iterator[Cluster]:
    """The production profile started for a test module, in a scratch PostgreSQL schema.

    Test settings first (the tests' 30 s action deadline: several servers share the test
    machine's cores; the citizens' 3 s is a production promise tested in tests/reliability),
    then ``extra_env``. When it fails to start, the tail of every process's log is printed.
    """
    require_nginx()
    env = {
        "VENTANILLA_ENV": "test",
        "VENTANILLA_KB_INDEX_DIR": str(kb_index_dir),
        "VENTANILLA_ACTION_TIMEOUT_SECONDS": "30",
        **extra_env,
    }
    with scratch_schema(postgres_url, schema) as database_url:
        running = Cluster(
            model=model,
            var_dir=var_dir,
            database_url=database_url,
            redis_host=redis_address[0],
            redis_port=redis_address[1],
            layout=layout,
            extra_env=env,
            with_web=False,
        )
        try:
            running.start(timeout=900)  # an upper bound: Rasa servers load at once (13 min seen on a busy machine)
        except Exception:
            for log in sorted((var_dir / "logs").glob("*.log")):
                print(f"--- {log.stem} log ---\n{log_tail(var_dir, log.stem)}")
            raise
        try:
            yield running
        finally:
            running.stop()


@contextmanager
def running_nginx(layout: NginxLayout, health_url: str) -> Iterator[Path]:
    """nginx in the foreground with ``layout``'s configuration, until the block ends."""
    binary = require_nginx()
    prefix = Path(layout.prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render(layout))
    process = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(health_url, timeout=1):
                    break
            except (urllib.error.URLError, OSError) as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (prefix / "error.log").read_text(errors="replace")
                    raise RuntimeError(f"nginx did not start: {log}") from error
                time.sleep(0.1)
        yield conf
    finally:
        process.terminate()
        process.wait(timeout=10)
