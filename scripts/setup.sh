#!/usr/bin/env bash
# Creates .venv (if missing) and installs lstm-complete with the pinned versions we test with.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
extras=${1:+[$1]}
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extras}"
