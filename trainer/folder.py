"""Model folders on disk, without torch: their layout, atomic writing, and loading one for
inference (numpy weights), with a one-line error naming the file at fault.

A model folder holds config.json, tokenizer.json, model.safetensors, manifest.json,
metrics.jsonl and, while it can still be resumed, training_state.pt. The language server reads
folders through this module only; training (checkpoint.py) builds the torch model on top of it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file

from .config import ModelConfig
from .corpus import Corpus
from .match import Mixer
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
class Changes:
    """How a corpus differs from a model's manifest, by file key."""

    added: list[str]
    modified: list[str]
    deleted: list[str]

    @property
    def learn(self) -> list[str]:
        return self.added + self.modified

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.deleted)

    def describe(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in asdict(self).items() if v]
        return ", ".join(parts) if parts else "no changes"


def changes(manifest: Manifest, corpus: Corpus) -> Changes:
    now = corpus.manifest()
    return Changes(
        added=sorted(k for k in now if k not in manifest.files),
        modified=sorted(k for k, h in now.items() if manifest.files.get(k, h) != h),
        deleted=sorted(k for k in manifest.files if k not in now),
    )


@dataclass
class SavedModel:
    """A model folder as inference needs it: the weights as float32 numpy arrays."""

    path: Path
    config: ModelConfig
    weights: dict[str, np.ndarray]
    vocab: Vocab
    info: dict[str, Any]  # config.json beside the architecture: trained_chars, mixer, ...
    manifest: Manifest
    metrics: list[dict[str, Any]]

    @property
    def mixer(self) -> Mixer:
        return Mixer.from_dict(self.info.get("mixer"))

    def parameter_count(self) -> int:
        return sum(w.size for w in self.weights.values())


def load(path: Path) -> SavedModel:
    path = Path(path).absolute()
    recover(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: no model folder here")
    info = read_json(path / CONFIG)
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
    weights = _read_weights(path / WEIGHTS, config)
    data = read_json(path / MANIFEST)
    try:
        manifest = Manifest(**data)
    except TypeError:
        raise CheckpointError(f"{path / MANIFEST}: not a corpus manifest") from None
    return SavedModel(path, config, weights, vocab, info, manifest, read_metrics(path))


def _read_weights(file: Path, config: ModelConfig) -> dict[str, np.ndarray]:
    try:
        weights = load_file(str(file))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{file}: {_missing_or(err, 'truncated or corrupt')}") from None
    expected = config.weight_shapes()
    for name, shape in expected.items():
        if name not in weights:
            problem = f"no {name}"
        elif weights[name].shape != shape:
            found = "x".join(map(str, weights[name].shape))
            problem = f"{name} is {found}, the config makes it {'x'.join(map(str, shape))}"
        else:
            continue
        raise CheckpointError(f"{file}: does not match {CONFIG} ({problem})")
    extra = sorted(set(weights) - set(expected))
    if extra:
        raise CheckpointError(f"{file}: does not match {CONFIG} (unexpected {extra[0]})")
    return {name: w.astype(np.float32, copy=False) for name, w in weights.items()}


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


def read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{file}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{file}: not valid JSON ({err})") from None


def _missing_or(err: Exception, otherwise: str) -> str:
    text = str(err).lower()
    return "missing" if isinstance(err, FileNotFoundError) or "no such file" in text else otherwise
