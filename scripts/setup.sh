#!/usr/bin/env bash
# Create .venv with Python 3.10 and install hrsnn_hw into it (idempotent).
# Finds a working Python 3.10 by itself: $HRSNN_PYTHON, a real python3.10 on PATH,
# then pyenv's 3.10.x; where none exists it says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${HRSNN_VENV:-.venv}"

works() { "$@" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

find_python() {
    if [ -n "${HRSNN_PYTHON:-}" ] && works "$HRSNN_PYTHON"; then echo "$HRSNN_PYTHON"; return; fi
    local cand
    for cand in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
        if command -v "$cand" >/dev/null 2>&1 && works "$cand"; then command -v "$cand"; return; fi
    done
    if command -v pyenv >/dev/null 2>&1 || [ -d "${PYENV_ROOT:-$HOME/.pyenv}" ]; then
        local root
        root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
        for cand in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -V -r); do
            if works "$cand/bin/python3.10"; then echo "$cand/bin/python3.10"; return; fi
        done
    fi
    return 1
}

if [ ! -x "$VENV/bin/python" ] || ! works "$VENV/bin/python"; then
    if ! PY="$(find_python)"; then
        cat >&2 <<'MSG'
error: no working Python 3.10 found (lava-nc 0.10.0 requires Python >=3.10,<3.11).
Install one, then re-run this script:
  Debian/Ubuntu:  sudo apt-get install python3.10 python3.10-venv
  pyenv:          pyenv install 3.10.13
or point HRSNN_PYTHON at a python3.10 executable.
MSG
        exit 2
    fi
    echo "setup: using $PY ($("$PY" --version 2>&1))" >&2
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

STAMP="$VENV/.hrsnn_installed"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    PYTHONWARNINGS=ignore "$VENV/bin/python" -m pip install --quiet -e ".[dev,notebooks]" 2>&1 | grep -v "^WARNING: Location" >&2 || true
    "$VENV/bin/python" -c "import hrsnn_hw, lava, brian2" || { echo "error: installation failed" >&2; exit 1; }
    touch "$STAMP"
fi
