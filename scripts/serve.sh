#!/usr/bin/env bash
# First command of the README: set everything up, index the bundled corpus, serve on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/qa serve "$@"
