"""Shared fixtures: a small Python corpus with repeated idioms, and a tiny model trained on it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Tests run a server or a trainer beside themselves on 2 cores: with torch's default of one
# intra-op thread per core, the processes' threads spin against each other (3x slower here).
# Set before torch is imported; subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Servers the tests start keep their workspace's index (and trainings their models) in the user's
# cache folder: this session's own keeps the real one free of tests' workspaces.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="lstm-complete-tests-cache-")

import textwrap
from pathlib import Path

import pytest

from trainer.config import TrainConfig
from trainer.train import train

atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)

MODULE = '''
import os


class {name}Store:
    """Keeps {name} records on disk."""

    def __init__(self, root):
        self.root = root
        self.items = []

    def add_{lower}(self, item):
        self.items.append(item)
        return len(self.items)

    def load_{lower}(self, path):
        with open(os.path.join(self.root, path)) as handle:
            return handle.read()


def make_{lower}_store(root):
    store = {name}Store(root)
    store.add_{lower}("first")
    return store
'''

NAMES = [
    "Alpha",
    "Bravo",
    "Charlie",
    "Delta",
    "Echo",
    "Foxtrot",
    "Golf",
    "Hotel",
    "India",
    "Juliet",
]


def write_corpus(root: Path, names: list[str] = NAMES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        text = textwrap.dedent(MODULE).format(name=name, lower=name.lower())
        (root / f"{name.lower()}.py").write_text(text)
    return root


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        size="tiny",
        batch_size=4,
        seq_len=32,
        steps=120,
        eval_every=60,
        log_every=10,
        warmup_steps=10,
        eval_chars=20_000,
        fit_chars=5_000,
        held_out=0.2,
    )
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "repo")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, corpus_dir) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    train([corpus_dir], out, tiny_config(steps=300, eval_every=150), base=None, log=lambda _m: None)
    return out
