"""Builds what the whole test suite shares, both at once: the test model and the test index.

Training the fast test model (TensorFlow) and embedding the knowledge base for the test
index (e5) are the two longest steps of ``make test`` and do not depend on each other; run
one after the other by the first tests that need them, they took 5.6-13 minutes. Started
together before pytest, the index is built while training waits on its own steps. The test
fixtures (tests/conftest.py) then find both cached (by content hash) and do nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from launcher.train import ensure_model

ROOT = Path(__file__).resolve().parent.parent
TEST_CONFIG = ROOT / "tests" / "config.fast.yml"
TEST_MODELS = ROOT / "var" / "test-models"
TEST_INDEX = ROOT / "var" / "test-kb-index"


def main() -> int:
    env = {**os.environ, "VENTANILLA_KB_INDEX_DIR": str(TEST_INDEX)}
    index = subprocess.Popen([sys.executable, "-m", "knowledge_base.cli", "build", "--if-changed"], cwd=ROOT, env=env)
    try:
        ensure_model(TEST_CONFIG, TEST_MODELS, "test")
    finally:
        built = index.wait()
    if built != 0:
        print("==> No se pudo construir el índice de pruebas", file=sys.stderr)
    return built


if __name__ == "__main__":
    sys.exit(main())
