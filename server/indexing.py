"""The workspace's match index, built by a process of its own and mapped into the server.

Building the suffix array of the standard library's 12 M characters peaked at 458 MB resident
in the server (measured); the server's own peak was that build. A separate process takes that
peak and exits, the server maps the arrays it wrote and holds only the pages lookups touch, and
an index still current on disk (a restart, a model swapped in) is not built again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from trainer import index_file
from trainer.match import MatchIndex
from trainer.paths import default_index_dir

log = logging.getLogger(__name__)
USAGE_ERROR = 2  # the command's status for input it cannot index (no Python files, ...)


def workspace_index(root: Path, exclude: list[str]) -> MatchIndex | None:
    """The index of the workspace's files, built or brought up to date first; None when there is
    nothing to index or it cannot be built (the match model then searches the document only)."""
    dest = default_index_dir(root)
    for rebuild in (False, True):
        if not _build(root, exclude, dest, rebuild):
            return None
        try:
            return index_file.read(dest)
        except index_file.IndexFileError as err:
            if rebuild:
                log.error("the match index cannot be used, even rebuilt: %s", err)
            else:
                log.warning("the match index is damaged, building it again: %s", err)
    return None


def _build(root: Path, exclude: list[str], dest: Path, rebuild: bool) -> bool:
    command = [sys.executable, "-m", "server", "index", str(root), "--out", str(dest)]
    command += [f"--exclude={pattern}" for pattern in exclude]
    # where the cores are busy, the editor's requests come first
    command += ["--nice", "10"] + (["--rebuild"] if rebuild else [])
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=dict(os.environ, OMP_NUM_THREADS="1"),
        )
    except OSError as err:
        log.error("the match index cannot be built: %s", err)
        return False
    if done.returncode == 0:
        return True
    lines = (done.stderr or done.stdout).strip().splitlines()
    last = lines[-1] if lines else f"exit status {done.returncode}"
    if done.returncode == USAGE_ERROR:
        log.info("no match index: %s", last)
    else:
        log.error("the match index cannot be built (exit status %s): %s", done.returncode, last)
    return False
