"""Training in a separate process: one thread, a lower priority than the server, and a crash in
it cannot take the server down. Progress comes back as JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any


class TrainingProcess:
    def __init__(
        self,
        args: list[str],
        on_progress: Callable[[float, str], None],
        on_exit: Callable[[int, str, dict[str, Any] | None], None],
    ) -> None:
        """`on_exit(status, last line of output, result)`: the result is what the command printed
        as {"result": ...}, if anything."""
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        command = [
            sys.executable,
            "-m",
            "server",
            "train",
            *args,
            "--threads",
            "1",
            "--nice",  # where the cores are busy, the editor's requests come first
            "10",
            "--progress-json",
        ]
        self._proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self._on_progress, self._on_exit = on_progress, on_exit
        threading.Thread(target=self._follow, name="lstm-complete-training", daemon=True).start()

    def _follow(self) -> None:
        last, result = "", None
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    row = json.loads(line)
                    if "result" in row:
                        result = row["result"]
                    else:
                        self._on_progress(float(row["progress"]), str(row["message"]))
                    continue
                except (ValueError, KeyError, TypeError):
                    pass
            if line:
                last = line
        self._on_exit(self._proc.wait(), last, result)

    def running(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        """Ask it to stop: it saves a resumable checkpoint on SIGINT."""
        if self.running():
            self._proc.send_signal(signal.SIGINT)
