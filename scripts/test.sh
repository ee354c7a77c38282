#!/usr/bin/env bash
# Second command of the README (and what CI runs): set up, lint, test, and gate answer quality.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .

# A throwaway PostgreSQL (installed with apt when missing and possible), so the session tests
# run against a real server too; without one they skip and say so.
export QA_TEST_POSTGRES_DIR=""
if pg_env="$(bash scripts/postgres-for-tests.sh)"; then
  eval "$pg_env"
else
  echo "test: no PostgreSQL could be started; its session tests will skip" >&2
fi
index_dir="$(mktemp -d)"
cleanup() {
  rm -rf "$index_dir"
  if [ -n "$QA_TEST_POSTGRES_DIR" ]; then bash scripts/postgres-for-tests.sh stop "$QA_TEST_POSTGRES_DIR"; fi
}
trap cleanup EXIT

.venv/bin/pytest
# The index, retrieval and API tests again with the index in Milvus (Milvus Lite, embedded).
QA_INDEX_BACKEND=milvus .venv/bin/pytest tests/test_indexing.py tests/test_index_integrity.py \
  tests/test_retrieval.py tests/test_api.py tests/test_documents_admin.py tests/test_readiness.py \
  tests/test_disk_full.py tests/test_answering_model.py tests/test_cli.py
# The gold set through the real model and index: fails when a figure falls below the baseline.
.venv/bin/qa eval --index "$index_dir" --out "$index_dir/eval" --check
