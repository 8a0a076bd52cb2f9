#!/usr/bin/env bash
# The product on a corpus every machine has: this Python's standard library. Fine-tunes the
# shipped base model for a short while, then prints held-out figures and the model's suggestions
# at real positions of held-out files beside what the files actually say.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=${DEMO_OUT:-runs/demo}
.venv/bin/lstm-complete train --stdlib --minutes "${DEMO_MINUTES:-1}" --eval-every 100 --out "$out"
.venv/bin/lstm-complete eval "$out" --stdlib --positions 100
