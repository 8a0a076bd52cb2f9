"""Longer fuzzing: the property-based tests of tests/server/test_fuzz.py with more examples, drawn
afresh on every run (the test suite's are few and fixed).

    python -m benchmarks.fuzz [--examples 500] [--only in_process|stdio|initialization]

Prints, for each fuzz test, the cases tried (shrinking included), the messages sent, the requests
answered, the positions compared with a fresh read, and the errors; on a failure, Hypothesis
prints the smallest case that shows it. The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from tests.server.fuzz import ENV_EXAMPLES

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per fuzz test")
    parser.add_argument("--only", help="run the fuzz tests whose names contain this")
    args = parser.parse_args(argv)
    select = "test_fuzz_" + (f" and {args.only}" if args.only else "")
    env = dict(os.environ, OMP_NUM_THREADS="1", **{ENV_EXAMPLES: str(args.examples)})
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    command += ["tests/server/test_fuzz.py", "-k", select]
    return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
