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

from launcher.nginx import NginxLayout, NginxMissing, nginx_binary, render
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
