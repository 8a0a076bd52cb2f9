"""Incremental updates: learn what changed since the manifest, keep the weights only if held-out
text did not get worse, and write nothing otherwise."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.conftest import MODULE
from trainer import checkpoint
from trainer.config import UpdateConfig
from trainer.corpus import collect
from trainer.folder import changes
from trainer.update import update

QUICK = dict(seconds=30.0, passes=1.0, batch_size=4, seq_len=32, min_replay_chars=2_000)


@pytest.fixture
def workspace(tmp_path, tiny_model, corpus_dir) -> tuple[Path, Path]:
    """A copy of the tiny model and of the corpus it was trained on, to change freely."""
    model = shutil.copytree(tiny_model, tmp_path / "model")
    repo = shutil.copytree(corpus_dir, tmp_path / "repo")
    return model, repo


def new_module(name: str) -> str:
    return MODULE.format(name=name, lower=name.lower())


def test_changes_since_the_manifest(workspace):
    model, repo = workspace
    (repo / "kilo.py").write_text(new_module("Kilo"))
    (repo / "alpha.py").write_text(new_module("Alpha") + "\nEXTRA = 1\n")
    (repo / "bravo.py").unlink()
    found = changes(checkpoint.load(model).manifest, collect([repo]))
    assert (found.added, found.modified, found.deleted) == (["kilo.py"], ["alpha.py"], ["bravo.py"])


def test_an_update_learns_new_files_and_forgets_deleted_ones(workspace):
    model, repo = workspace
    before = checkpoint.load(model)
    old = load_file(str(model / "model.safetensors"))
    (repo / "kilo.py").write_text(new_module("Kilo"))
    (repo / "bravo.py").unlink()
    result = update(model, [repo], UpdateConfig(**QUICK), log=lambda _m: None)
    assert result.accepted is True and result.steps > 0
    assert result.bpc_after <= result.bpc_before + UpdateConfig.margin
    after = checkpoint.load(model)
    assert "kilo.py" in after.manifest.files and "bravo.py" not in after.manifest.files
    assert after.info["trained_chars"] == before.info["trained_chars"] + result.chars
    assert after.info["last_update"]["accepted"] is True
    new = load_file(str(model / "model.safetensors"))
    assert any(not old[k].equal(new[k]) for k in old)
    # Up to date now: a second update finds nothing and writes nothing.
    stamp = (model / "model.safetensors").stat().st_mtime_ns
    again = update(model, [repo], UpdateConfig(**QUICK), log=lambda _m: None)
    assert again.accepted is None and not again.changes
    assert (model / "model.safetensors").stat().st_mtime_ns == stamp


def test_an_update_that_fails_the_held_out_check_leaves_the_old_weights(workspace):
    model, repo = workspace
    files = {p.name: p.read_bytes() for p in model.iterdir()}
    (repo / "kilo.py").write_text(new_module("Kilo"))
    # A learning rate this high wrecks the weights: the check must catch it.
    result = update(model, [repo], UpdateConfig(**QUICK, lr=5.0), log=lambda _m: None)
    assert result.accepted is False
    assert result.bpc_after > result.bpc_before + UpdateConfig.margin
    assert {p.name: p.read_bytes() for p in model.iterdir()} == files


def test_losses_that_each_pass_the_check_cannot_add_up(workspace):
    model, repo = workspace
    (repo / "kilo.py").write_text(new_module("Kilo"))
    first = update(model, [repo], UpdateConfig(**QUICK), log=lambda _m: None)
    assert first.accepted is True
    config = json.loads((model / "config.json").read_text())
    assert config["update_reference"]["bpc"] == first.bpc_before
    # As if earlier updates had each lost a little: the model is now far worse than at first.
    config["update_reference"]["bpc"] = first.bpc_after - 1.0
    (model / "config.json").write_text(json.dumps(config))
    (repo / "lima.py").write_text(new_module("Lima"))
    second = update(model, [repo], UpdateConfig(**QUICK), log=lambda _m: None)
    assert second.accepted is False
    assert second.bpc_after <= second.bpc_before + UpdateConfig.margin  # alone, it would pass


def test_only_deletions_rewrite_the_manifest_without_training(workspace):
    model, repo = workspace
    weights = (model / "model.safetensors").read_bytes()
    (repo / "charlie.py").unlink()
    result = update(model, [repo], UpdateConfig(**QUICK), log=lambda _m: None)
    assert result.accepted is None and result.changes.deleted == ["charlie.py"]
    assert "charlie.py" not in checkpoint.load(model).manifest.files
    assert (model / "model.safetensors").read_bytes() == weights


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", "train", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_train_update_from_the_command_line(workspace, tmp_path):
    model, repo = workspace
    (repo / "kilo.py").write_text(new_module("Kilo"))
    done = run_cli(str(repo), "--out", str(model), "--update", "--progress-json")
    assert done.returncode == 0, done.stderr
    assert '"result"' in done.stdout and '"accepted": true' in done.stdout
    assert "kilo.py" in checkpoint.load(model).manifest.files

    missing = run_cli(str(repo), "--out", str(tmp_path / "nothing"), "--update")
    assert missing.returncode == 2
    assert "no model to update" in missing.stderr and "Traceback" not in missing.stderr
