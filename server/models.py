"""Which model answers, and loading it off the request path. A new model is swapped in whole,
between requests, once it is loaded and indexed: until then the old one keeps answering."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from trainer import folder
from trainer.match import MatchIndex
from trainer.paths import BASE_MODEL, default_model_dir
from trainer.sampling import Predictor

from .indexing import workspace_index
from .settings import Settings

log = logging.getLogger(__name__)


class Listener(Protocol):
    """What the model manager and the learner tell the editor (called from background threads)."""

    def message(self, level: str, text: str) -> None: ...
    def progress(self, title: str, fraction: float | None, text: str) -> None: ...
    def progress_done(self, text: str) -> None: ...
    def model_changed(self) -> None: ...


@dataclass(frozen=True)
class Choice:
    path: Path
    is_base: bool  # the shipped base model, standing in until the workspace has its own
    device: str = "auto"  # for the training processes: inference runs on the CPU, in numpy


class Models:
    def __init__(
        self,
        listener: Listener,
        override: Path | None = None,
        loaded: Callable[[Choice], None] = lambda _choice: None,
    ):
        self.listener = listener
        self.override = override  # --model on the command line beats the settings
        self.loaded = loaded  # told of every model put into service
        self.predictor: Predictor | None = None
        self.choice: Choice | None = None  # the model asked for
        self.serving: Choice | None = None  # the model that answers, once one is loaded
        self.fixed = False  # the model was named (--model, modelPath), not found by default
        # A model that could not be loaded, the base model standing in: nothing may train over
        # it by itself (the retrain command may).
        self.damaged: Path | None = None
        self.state = "no-model"
        self.message: str | None = None
        self.root: Path | None = None
        self.exclude: list[str] = []
        self.indexed_chars: int | None = None  # the workspace text the match model searches
        self._lock = threading.Lock()

    def choose(self, root: Path | None, settings: Settings) -> Choice:
        device = settings.device
        if self.override is not None:
            return Choice(self.override, False, device)
        if settings.modelPath:
            path = Path(settings.modelPath).expanduser()
            if not path.is_absolute() and root is not None:
                path = root / path
            return Choice(path, False, device)
        if root is not None:
            own = default_model_dir(root)
            if own.is_dir():
                return Choice(own, False, device)
        return Choice(BASE_MODEL, True, device)

    def configure(self, root: Path | None, settings: Settings) -> None:
        """Load the model the settings call for, unless it is the one already serving."""
        self.root, self.exclude = root, list(settings.exclude)
        self.fixed = self.override is not None or bool(settings.modelPath)
        self.damaged = None
        choice = self.choose(root, settings)
        if choice == self.choice and self.state != "error":
            return
        self.switch(choice)

    def switch(self, choice: Choice) -> None:
        """Load `choice` in the background and put it into service (again, if it is the one
        serving: its folder has new weights)."""
        self.choice = choice
        threading.Thread(target=self._load, args=(choice,), daemon=True).start()

    def _load(self, choice: Choice, note: str | None = None) -> None:
        fallback: Choice | None = None
        with self._lock:
            serving = self.predictor is not None
            if not serving:
                self.state, self.message = "loading", None
            self.listener.progress("lstm-complete: loading the model", None, str(choice.path))
            try:
                saved = folder.load(choice.path)
                predictor = Predictor(saved)
            except Exception as err:  # whatever is wrong with it, say so and keep serving
                if not isinstance(err, folder.CheckpointError):
                    log.exception("loading %s", choice.path)
                    err = f"{choice.path}: cannot be loaded ({type(err).__name__}: {err})"
                fallback = self._failed(choice, str(err))
                if fallback is None:
                    return
            else:
                if not serving:  # answer at once; the match index follows
                    self.predictor, self.serving = predictor, choice
                    self.state, self.message = "ready", note
                    self.listener.model_changed()
                self.listener.progress("lstm-complete: indexing the workspace", None, "")
                index = self._index()
                if self.choice == choice:
                    self.predictor = Predictor(saved, index) if index is not None else predictor
                    self.serving = choice
                    self.indexed_chars = index.size if index is not None else None
                    self.state, self.message = "ready", note
                    self.listener.model_changed()
                self.listener.progress_done("ready")
        if fallback is not None:
            self.choice = fallback
            self._load(fallback, note=self.message)
        elif self.choice == choice:
            self.loaded(choice)

    def _failed(self, choice: Choice, err: str) -> Choice | None:
        """A model that cannot be loaded. The model serving now stays (a later reload tries
        again); with none, for a damaged model the base model stands in; the base model itself
        failing is an error. Returns the model to load instead, if any."""
        self.listener.progress_done("no model")
        fallback = None
        if self.predictor is not None and self.serving is not None:
            self.choice = self.serving
            self.state, self.message = "ready", f"{err}; still serving {self.serving.path}"
        elif not choice.is_base:
            self.message = f"{err}; answering from the base model"
            self.damaged = choice.path
            fallback = Choice(BASE_MODEL, True, choice.device)
        else:
            self.predictor, self.serving = None, None
            self.state, self.message = "error", err
            self.listener.model_changed()
        self.listener.message("error", f"lstm-complete: {self.message}")
        return fallback

    def _index(self) -> MatchIndex | None:
        return None if self.root is None else workspace_index(self.root, self.exclude)

    def status(self) -> dict[str, Any]:
        model = None
        predictor = self.predictor
        if predictor is not None and self.choice is not None:
            info = predictor.checkpoint.info
            model = {
                "path": str(predictor.checkpoint.path),
                "parameters": predictor.checkpoint.parameter_count(),
                "trainedChars": info.get("trained_chars", 0),
                "heldOutBpc": info.get("held_out_bpc"),
                "isBase": predictor.checkpoint.path == BASE_MODEL.absolute(),
            }
        state, message = self.state, self.message
        if state == "loading":
            state, message = "no-model", f"loading {self.choice.path if self.choice else ''}"
        return {
            "state": state,
            "message": message,
            "model": model,
            "indexedChars": self.indexed_chars,
        }
