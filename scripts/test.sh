#!/usr/bin/env bash
# Everything the test suite needs, from scratch, then the whole suite: lint, format, and pytest
# (trainer, server over LSP, and the real-editor tests, which install their own editors).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q "$@"
