"""Learning while the user works: files that change queue an update of the workspace model,
which a training process carries out off the request path; the new model is then swapped in.

Changes come from watchdog, from the editor's didSave and didChangeWatchedFiles; they only start
a timer. When it fires, the workspace is compared with the served model's manifest (content
hashes), so however many events a change made, and whoever reported them, it is learned once.
With no model of its own, a workspace gets one by a full training from the base model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from trainer.corpus import CorpusError, collect, is_ignored_dir
from trainer.folder import changes
from trainer.paths import default_model_dir

from .models import Choice, Listener, Models
from .settings import Settings
from .training_process import TrainingProcess
from .watcher import Watcher

DEBOUNCE = 1.0  # seconds of quiet after a change before the workspace is compared
MAX_WAIT = 5.0  # ...but a steady stream of changes is looked at this often
RETRIES, RETRY_DELAY = 2, 5.0  # a failed update is tried again, a little later, this often
UPDATE_TITLE = "lstm-complete: learning your changes"
FULL_TITLE = "lstm-complete: learning this workspace"


class Learner:
    def __init__(self, models: Models, listener: Listener, training_minutes: float) -> None:
        self.models = models
        self.listener = listener
        self.training_minutes = training_minutes  # budget of a full training (and a cold start)
        self.root: Path | None = None
        self.exclude: list[str] = []
        self.enabled = True  # the learningEnabled setting
        self.paused = False  # the pause command
        self.queue: list[dict[str, str]] = []  # {path, reason}: changed since the manifest
        self.note: str | None = None  # why changes are not being learned, if they are not
        self.last_update: dict[str, Any] | None = None
        self.updates = 0  # updates finished since the server started
        self.accepted = 0  # ...and of them, those whose weights were kept
        self.rejected: set[tuple[str, str | None]] = set()  # (file, content hash) not to retry
        self.full_failed = False  # a failed full training is not restarted by itself
        self.dirty = False  # something changed while a training ran: look again after it
        self.failures = 0  # updates that failed in a row
        self.attempt: set[tuple[str, str | None]] = set()  # what the running update learns
        self.process: TrainingProcess | None = None
        self.kind = ""  # "update" or "full", while a process runs
        self.progress: tuple[str, float] | None = None
        self.watcher: Watcher | None = None
        self._timer: threading.Timer | None = None
        self._first_change: float | None = None
        self._lock = threading.RLock()

    # Configuration and lifetime
    def configure(self, root: Path | None, settings: Settings) -> None:
        self.enabled, self.exclude = settings.learningEnabled, list(settings.exclude)
        if root != self.root:
            self.root = root
            if self.watcher is not None:
                self.watcher.stop()
                self.watcher = None
            if root is not None and root.is_dir():
                self.watcher = Watcher(root, self._ignored, self.touched)
                problem = self.watcher.start()
                if problem:
                    self.listener.message("warning", f"lstm-complete: {problem}")
        if self.learning:
            self.touched()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            if self.watcher is not None:
                self.watcher.stop()
            if self.process is not None:
                self.process.stop()

    @property
    def learning(self) -> bool:
        return self.enabled and not self.paused

    def model_loaded(self, _choice: Choice) -> None:
        """A model went into service: a workspace without its own learns one from the base model;
        one with its own catches up with what changed since (while the server was down, too)."""
        self.touched(delay=0.0)

    # Commands
    def pause(self) -> None:
        with self._lock:
            self.paused = True
            if self._timer is not None:
                self._timer.cancel()
            if self.process is not None:
                self.process.stop()

    def resume(self) -> None:
        """Learning on, whatever the settings said until now (a later settings change rules)."""
        self.paused, self.enabled = False, True
        self.touched(delay=0.0)

    def start_full(self) -> str | None:
        """Train the workspace's model afresh from the base model; None, or why it cannot."""
        with self._lock:
            if self.root is None:
                return "no workspace folder to learn"
            if self.process is not None:
                return f"a {self.kind} training is already running"
            out = self._target()
            if out is None and self.models.fixed:
                return (
                    "the model in use was named in the settings and was not trained on this "
                    "workspace; train it with `lstm-complete train`"
                )
            self.full_failed = False
            out = out or default_model_dir(self.root)
            args = [str(self.root), "--out", str(out), "--minutes", str(self.training_minutes)]
            self._start("full", FULL_TITLE, args, out)
            return None

    # Changes
    def touched(self, delay: float = DEBOUNCE) -> None:
        """Something changed: compare the workspace with the model once things are quiet."""
        with self._lock:
            now = time.monotonic()
            if self._first_change is None:
                self._first_change = now
            wait = min(delay, max(0.0, self._first_change + MAX_WAIT - now))
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(wait, self._check)
            self._timer.daemon = True
            self._timer.start()

    def _ignored(self, path: Path) -> bool:
        if self.root is None:
            return True
        target = self._target()
        if target is not None and (path == target or target in path.parents):
            return True
        if self.root not in path.parents:
            return True
        # The folders the corpus walker skips (hidden, virtual environments, build output).
        return any(is_ignored_dir(folder) for folder in path.parents if self.root in folder.parents)

    def _target(self) -> Path | None:
        """The model folder updates write to: the served model, if it was trained on this
        workspace (never the shipped base model, nor a model of some other folder)."""
        predictor, choice = self.models.predictor, self.models.choice
        if predictor is None or choice is None or choice.is_base or self.root is None:
            return None
        roots = [Path(r).resolve() for r in predictor.checkpoint.manifest.roots]
        return predictor.checkpoint.path if roots == [self.root.resolve()] else None

    def _check(self) -> None:
        with self._lock:
            self._timer, self._first_change = None, None
            if self.process is not None:
                self.dirty = True
                return
            if self.root is None:
                return
            predictor, choice, target = self.models.predictor, self.models.choice, self._target()
            if predictor is None or choice is None:
                return
            if choice.is_base:  # standing in: the workspace needs a model of its own
                own = not self.models.fixed and self.models.damaged is None
                if self.learning and own and not self.full_failed:
                    self.start_full()
                return
            if target is None:
                self.queue = []
                self.note = f"{predictor.checkpoint.path} was not trained on this workspace"
                return
            try:
                corpus = collect([self.root], exclude=self.exclude)
            except CorpusError as err:
                self.queue, self.note = [], str(err)
                return
            found, hashes = changes(predictor.checkpoint.manifest, corpus), corpus.manifest()
            self.queue = [
                {"path": path, "reason": reason}
                for reason, paths in asdict(found).items()
                for path in paths
            ]
            self.note = None
            attempt = {(q["path"], hashes.get(q["path"])) for q in self.queue}
            if self.learning and attempt and not attempt <= self.rejected:
                args = [str(self.root), "--out", str(target), "--update"]
                self._start("update", UPDATE_TITLE, args, target)
                self.attempt = attempt

    def _start(self, kind: str, title: str, args: list[str], out: Path) -> None:
        for pattern in self.exclude:
            args += ["--exclude", pattern]
        # The device setting is for training: inference runs on the CPU, in numpy.
        args += ["--device", self.models.choice.device if self.models.choice else "auto"]
        self.kind, self.progress = kind, (title, 0.0)
        self.listener.progress(title, 0.0, "starting")
        started = time.monotonic()

        def on_progress(fraction: float, text: str) -> None:
            self.progress = (title, fraction)
            self.listener.progress(title, fraction, text)

        def on_exit(code: int, last: str, result: dict[str, Any] | None) -> None:
            with self._lock:
                self.process, self.kind, self.progress = None, "", None
                dirty, self.dirty = self.dirty, False
            if kind == "update":
                self._finished_update(code, last, result, time.monotonic() - started)
            elif code == 0:
                self.listener.progress_done("learned")
            else:
                self.full_failed = not self.paused
                self.listener.progress_done("training stopped")
                self.listener.message("warning", f"lstm-complete: training stopped: {last}")
            if code == 0:  # new weights, or at least new files for the match model to search
                self.failures = 0
                device = self.models.choice.device if self.models.choice else "auto"
                self.models.switch(Choice(out, False, device))  # its loading looks again
            elif dirty:
                self.touched(delay=0.0)
            elif kind == "update" and not self.paused and self.failures < RETRIES:
                # Killed or crashed: it wrote nothing, so the same changes are still there.
                self.failures += 1
                self.touched(delay=RETRY_DELAY)

        self.process = TrainingProcess(args, on_progress, on_exit)

    def _finished_update(
        self, code: int, last: str, result: dict[str, Any] | None, seconds: float
    ) -> None:
        if code != 0 or result is None:
            why = "stopped" if self.paused else f"failed: {last}"
            self.listener.progress_done(f"update {why}")
            if not self.paused:
                self.listener.message("warning", f"lstm-complete: the update {why}")
            return
        self.updates += 1
        found = result["changes"]
        self.last_update = {
            "number": self.updates,
            "files": sorted(found["added"] + found["modified"] + found["deleted"]),
            "seconds": round(seconds, 2),
            "steps": result["steps"],
            "heldOutBpcBefore": result["bpc_before"],
            "heldOutBpc": result["bpc_after"],
            "accepted": result["accepted"],
            "finishedAt": time.time(),
        }
        self.accepted += result["accepted"] is True
        if result["accepted"] is False:
            self.rejected |= self.attempt
            self.listener.progress_done("update rejected")
            self.listener.message(
                "warning",
                f"lstm-complete: an update made held-out text worse "
                f"({result['bpc_before']:.3f} -> {result['bpc_after']:.3f} bits/char); "
                "keeping the previous weights",
            )
        else:
            self.listener.progress_done("learned your changes")

    def status(self) -> dict[str, Any]:
        progress = None
        if self.progress is not None:
            progress = {"title": self.progress[0], "percentage": round(100 * self.progress[1])}
        return {
            "queue": list(self.queue),
            "learning": self.learning,
            "paused": self.paused,
            "training": self.kind or None,
            "progress": progress,
            "lastUpdate": self.last_update,
            "updates": self.updates,
            "updatesAccepted": self.accepted,
            "learningNote": self.note,
        }
