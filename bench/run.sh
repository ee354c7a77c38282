#!/usr/bin/env bash
# Every speed and scale figure in one command; arguments go to `python -m bench` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bench "$@"
