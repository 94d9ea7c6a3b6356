#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, which Rasa 3.6 needs (it refuses 3.11+).
# Looks on PATH first, then under pyenv. Exits non-zero with advice when there is none.
set -euo pipefail
for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && pyenv root 2>/dev/null)/versions/"3.10*/bin/python3.10 /root/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  path=$(command -v "$candidate" 2>/dev/null || true)
  if [ -n "$path" ] && "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<'MSG'
Ventanilla needs Python 3.10 for the Rasa server (Rasa Open Source 3.6 does not run on 3.11+).
Install it, for example with `pyenv install 3.10.13` or your system's python3.10 and python3.10-venv
packages, then run the command again.
MSG
exit 1
