"""Model folders on disk: written atomically, loaded without unpickling anything foreign.

A model folder holds config.json, tokenizer.json, model.safetensors, manifest.json,
metrics.jsonl and, while it can still be resumed, training_state.pt.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .match import Mixer
from .model import CharLSTM, ModelConfig
from .vocab import Vocab

FORMAT = 1
CONFIG, TOKENIZER, WEIGHTS, MANIFEST, METRICS, STATE = (
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "manifest.json",
    "metrics.jsonl",
    "training_state.pt",
)


class CheckpointError(Exception):
    """A model folder that cannot be used; the message names the file at fault."""


@dataclass
class Manifest:
    """The corpus a model was trained on: each file's content hash, and which were held out."""

    roots: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    held_out: list[str] = field(default_factory=list)
    seed: int = 0
    held_out_fraction: float = 0.05


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


def write_atomically(dest: Path, fill: Callable[[Path], None]) -> None:
    """Fill a fresh sibling folder, then swap it in: `dest` is the old folder or the new one."""
    dest = Path(dest).absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)
    _remove_orphans(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-{os.getpid()}-", dir=dest.parent))
    try:
        fill(tmp)
        for item in tmp.iterdir():
            _fsync(item)
        _fsync(tmp)
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        if dest.exists():
            os.rename(dest, old)
        os.rename(tmp, dest)
        _fsync(dest.parent)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as err:  # a full disk, most often: say so in one line
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(
            f"{dest}: cannot be written ({err.strerror or err}); the model there is unchanged"
        ) from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def recover(dest: Path) -> None:
    """Put back the previous folder if a swap was cut off between its two renames."""
    if dest.exists():
        return
    olds = sorted(dest.parent.glob(f".{dest.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds:
        os.rename(olds[-1], dest)


def _remove_orphans(dest: Path) -> None:
    for tmp in dest.parent.glob(f".{dest.name}.tmp-*"):
        pid = tmp.name.split(".tmp-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
    if dest.exists():
        for old in dest.parent.glob(f".{dest.name}.old-*"):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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

    def fill(folder: Path) -> None:
        config = {"format": FORMAT, "model": model.config.to_dict(), **info}
        (folder / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        vocab.save(folder / TOKENIZER)
        save_file(weights, str(folder / WEIGHTS))
        (folder / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=1) + "\n")
        (folder / METRICS).write_text("".join(json.dumps(m) + "\n" for m in metrics))
        if training_state is not None:
            # through memory: torch's own writer turns a full disk into an unnamed RuntimeError
            buffer = io.BytesIO()
            torch.save(training_state, buffer)
            (folder / STATE).write_bytes(buffer.getbuffer())

    write_atomically(dest, fill)


def load(path: Path, device: str | torch.device = "cpu") -> Checkpoint:
    path = Path(path).absolute()
    recover(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: no model folder here")
    info = _read_json(path / CONFIG)
    if not isinstance(info, dict) or info.get("format") != FORMAT or "model" not in info:
        raise CheckpointError(
            f"{path / CONFIG}: not an lstm-complete model config (format {FORMAT})"
        )
    try:
        config = ModelConfig(**info.pop("model"))
    except TypeError as err:
        raise CheckpointError(f"{path / CONFIG}: bad model settings ({err})") from None
    info.pop("format")
    try:
        vocab = Vocab.load(path / TOKENIZER)
    except Exception as err:
        raise CheckpointError(f"{path / TOKENIZER}: {_missing_or(err, 'cannot be read')}") from None
    if vocab.size != config.vocab_size:
        raise CheckpointError(
            f"{path / TOKENIZER}: {vocab.size} tokens, "
            f"but the model was built for {config.vocab_size}"
        )
    try:
        weights = load_file(str(path / WEIGHTS))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(
            f"{path / WEIGHTS}: {_missing_or(err, 'truncated or corrupt')}"
        ) from None
    model = CharLSTM(config)
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if "\n" in str(err) else str(err)
        raise CheckpointError(f"{path / WEIGHTS}: does not match {CONFIG} ({first})") from None
    data = _read_json(path / MANIFEST)
    try:
        manifest = Manifest(**data)
    except TypeError:
        raise CheckpointError(f"{path / MANIFEST}: not a corpus manifest") from None
    model.to(device).eval()
    return Checkpoint(path, model, vocab, info, manifest, read_metrics(path))


def load_training_state(path: Path) -> dict[str, Any]:
    """What `--resume` needs; tensors and plain containers only (weights_only: no pickled code)."""
    file = Path(path) / STATE
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{file}: missing; this model cannot be resumed") from None
    except Exception as err:
        raise CheckpointError(f"{file}: cannot be loaded safely ({type(err).__name__})") from None


def read_metrics(path: Path) -> list[dict[str, Any]]:
    file = Path(path) / METRICS
    if not file.exists():
        return []
    rows = []
    for line in file.read_text(errors="replace").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line from an older writer; the rest is still good
    return rows


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{file}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{file}: not valid JSON ({err})") from None


def _missing_or(err: Exception, otherwise: str) -> str:
    text = str(err).lower()
    return "missing" if isinstance(err, FileNotFoundError) or "no such file" in text else otherwise
