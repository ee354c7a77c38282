#!/usr/bin/env bash
# Second command of the README (and what CI runs): set up, lint, test, and gate answer quality.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/pytest -q
# The gold set through the real model and index: fails when a figure falls below the baseline.
index_dir="$(mktemp -d)"
trap 'rm -rf "$index_dir"' EXIT
.venv/bin/qa eval --index "$index_dir" --out "$index_dir/eval" --check
