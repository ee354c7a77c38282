#!/usr/bin/env bash
# Sets up .venv with everything the service and its tests need. Safe to run again: it does
# nothing when pyproject.toml has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin="$candidate"; break; fi
  done
fi
[ -n "$python_bin" ] || { echo "install: Python 3.11+ is needed" >&2; exit 1; }

step() { echo "install: $*" >&2; }

if [ ! -x .venv/bin/python ]; then
  step "making the virtual environment .venv with $python_bin"
  "$python_bin" -m venv .venv
fi

stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  step "upgrading pip"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The CPU build of torch first: an unpinned torch would pull gigabytes of CUDA packages.
  step "installing torch (CPU build; the largest download, a minute or two)"
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  step "installing qa and its dependencies (pyproject.toml, with [dev])"
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
  step "done: .venv/bin/qa --help lists the commands"
else
  step ".venv is up to date with pyproject.toml: nothing to do"
fi
