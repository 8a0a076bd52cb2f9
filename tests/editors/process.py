"""Running an editor (or a build step) the way every editor test does: no input, output kept,
and a run that does not finish in time fails the test with what it printed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


def run_captured(
    cmd: Sequence[str | Path],
    *,
    cwd: Path,
    env: dict[str, str] | None,
    timeout: float,
    name: str,
    more: Callable[[], str] = lambda: "",
) -> subprocess.CompletedProcess[str]:
    """`cmd`'s run, stdout and stderr together; `more()` adds to a timeout's message (a log)."""
    try:
        return subprocess.run(
            [str(part) for part in cmd],
            cwd=cwd,
            env=env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"{name} ran over {timeout:.0f} s:\n{err.output or ''}{more()}")
