"""Model folders for training: the torch model built on a folder's weights, saved back atomically
(see folder.py for the layout and the torch-free loading the language server uses)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from . import folder
from .folder import (
    CONFIG,
    FORMAT,
    MANIFEST,
    METRICS,
    STATE,
    TOKENIZER,
    WEIGHTS,
    CheckpointError,
    Manifest,
    SavedModel,
)
from .match import Mixer
from .model import CharLSTM
from .vocab import Vocab


@dataclass
class Checkpoint:
    path: Path
    model: CharLSTM
    vocab: Vocab
    info: dict[
        str, Any
    ]  # config.json beside the architecture: trained_chars, held_out_bpc, mixer, ...
    manifest: Manifest
    metrics: list[dict[str, Any]]

    @property
    def mixer(self) -> Mixer:
        return Mixer.from_dict(self.info.get("mixer"))

    def for_inference(self) -> SavedModel:
        """The model as it is now (trained further, perhaps), with numpy weights for a Predictor."""
        weights = {
            k: v.detach().to("cpu", torch.float32).numpy()
            for k, v in self.model.state_dict().items()
        }
        config, info = self.model.config, self.info
        return SavedModel(self.path, config, weights, self.vocab, info, self.manifest, self.metrics)


def save(
    dest: Path,
    model: CharLSTM,
    vocab: Vocab,
    info: dict[str, Any],
    manifest: Manifest,
    metrics: list[dict[str, Any]],
    training_state: dict[str, Any] | None = None,
) -> None:
    weights = {
        k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()
    }

    def fill(out: Path) -> None:
        config = {"format": FORMAT, "model": model.config.to_dict(), **info}
        (out / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        vocab.save(out / TOKENIZER)
        save_file(weights, str(out / WEIGHTS))
        (out / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=1) + "\n")
        (out / METRICS).write_text("".join(json.dumps(m) + "\n" for m in metrics))
        if training_state is not None:
            # through memory: torch's own writer turns a full disk into an unnamed RuntimeError
            buffer = io.BytesIO()
            torch.save(training_state, buffer)
            (out / STATE).write_bytes(buffer.getbuffer())

    folder.write_atomically(dest, fill)


def load(path: Path, device: str | torch.device = "cpu") -> Checkpoint:
    """The folder's model as a torch CharLSTM on `device` (its files checked by folder.load)."""
    saved = folder.load(path)
    model = CharLSTM(saved.config)
    model.load_state_dict({k: torch.from_numpy(w) for k, w in saved.weights.items()})
    model.to(device).eval()
    return Checkpoint(saved.path, model, saved.vocab, saved.info, saved.manifest, saved.metrics)


def load_training_state(path: Path) -> dict[str, Any]:
    """What `--resume` needs; tensors and plain containers only (weights_only: no pickled code)."""
    file = Path(path) / STATE
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{file}: missing; this model cannot be resumed") from None
    except Exception as err:
        raise CheckpointError(f"{file}: cannot be loaded safely ({type(err).__name__})") from None
