"""Faults around the model a real server (over stdio) serves: its folder deleted or damaged while it
runs, damaged before it starts, a swap of folders cut off, a full disk during a training write. The
server keeps answering from the last good model, or the base model, and says so."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from trainer import checkpoint
from trainer.paths import default_model_dir

from .lsp import complete, inline, open_document, session, status, wait_for_index
from .test_lsp import KILO, cut_after


def truncate_weights(model: Path) -> None:
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])


DAMAGES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "deleted": (shutil.rmtree, "no model folder"),
    "truncated weights": (truncate_weights, "model.safetensors: truncated or corrupt"),
    "garbage config": (
        lambda m: (m / "config.json").write_text("{garbage"),
        "config.json: not valid JSON",
    ),
    "missing tokenizer": (lambda m: (m / "tokenizer.json").unlink(), "tokenizer.json: missing"),
}


def configure(client: LanguageClient, values: dict[str, Any]) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"lstmComplete": values})
    )


async def wait_for_message(client: LanguageClient, part: str | None) -> dict[str, Any]:
    """The status once its message contains `part` (None: once it has no message)."""
    for _ in range(600):
        now = await status(client)
        message = now["message"]
        if now["state"] == "ready" and (
            message is None if part is None else part in (message or "")
        ):
            return now
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server stayed {now}")


async def test_a_model_damaged_while_serving_leaves_the_last_good_one_serving(
    tiny_model: Path, corpus_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    async with session(corpus_dir, options={"modelPath": str(model)}) as client:
        await wait_for_index(client)
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        expected = await inline(client, uri, line, col)
        assert expected == ["end(item)"]
        for name, (damage, named) in DAMAGES.items():
            shutil.rmtree(model, ignore_errors=True)
            shutil.copytree(tiny_model, model)
            damage(model)
            assert await inline(client, uri, line, col) == expected, name  # from memory
            # a reload, as a settings change makes one: the device differs from the serving one
            configure(client, {"modelPath": str(model), "device": "cpu"})
            now = await wait_for_message(client, named)
            assert now["message"].endswith(f"still serving {model}"), now
            assert now["model"]["path"] == str(model) and not now["model"]["isBase"]
            assert any(named in m.message for m in client.messages), name
            assert await inline(client, uri, line, col) == expected, name
        assert len(client.messages) == len(DAMAGES)
        shutil.rmtree(model, ignore_errors=True)
        shutil.copytree(tiny_model, model)
        configure(client, {"modelPath": str(model), "device": "cpu"})  # repaired: taken again
        now = await wait_for_message(client, None)
        assert now["model"]["path"] == str(model)
        assert await inline(client, uri, line, col)  # before or after its index is rebuilt


async def test_a_damaged_workspace_model_at_start_gives_way_to_the_base_model(
    tiny_model: Path, corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the server inherits it
    workspace = tmp_path / "workspace"
    shutil.copytree(corpus_dir, workspace)
    own = default_model_dir(workspace)
    shutil.copytree(tiny_model, own)
    truncate_weights(own)
    async with session(workspace, ready=False) as client:
        now = await wait_for_message(client, "answering from the base model")
        assert "model.safetensors: truncated or corrupt" in now["message"]
        assert now["model"]["isBase"]
        assert any("answering from the base model" in m.message for m in client.messages)
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, workspace / "kilo.py", text)
        assert (await complete(client, uri, line, col)).items
        assert (await status(client))["state"] == "ready"  # and no training replaced it


async def test_a_swap_cut_off_between_its_renames_is_recovered(
    tiny_model: Path, corpus_dir: Path, tmp_path: Path
) -> None:
    """What a kill -9 between the two renames of a checkpoint write leaves: the model folder
    gone, the previous one under its temporary name."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model, tmp_path / ".model.old-99999")
    async with session(corpus_dir, "--model", str(model)) as client:
        assert (await status(client))["message"] is None
        await wait_for_index(client)
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        assert await inline(client, uri, line, col) == ["end(item)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@contextlib.contextmanager
def small_disk(path: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes at `path` (mounting one needs root)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


async def test_a_full_disk_during_a_training_write_leaves_the_last_model(
    tiny_model: Path, corpus_dir: Path, tmp_path: Path
) -> None:
    """A real `lstm-complete train` writes into a disk with room for one model only: its write
    fails with ENOSPC, the model already there stays whole, and the server serves it."""
    size = sum(f.stat().st_size for f in tiny_model.iterdir())
    with small_disk(tmp_path / "disk", size * 3 // 2) as disk:
        model = disk / "model"
        shutil.copytree(tiny_model, model)
        before = checkpoint.load(model).info["trained_chars"]
        run = subprocess.run(
            [
                *(sys.executable, "-m", "server", "train", str(corpus_dir), "--out", str(model)),
                *("--from-scratch", "--size", "tiny", "--steps", "20", "--eval-every", "10"),
                *("--threads", "1", "--seed", "0"),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, OMP_NUM_THREADS="1"),
            timeout=300,
        )
        # one clear line, not a traceback
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.strip().endswith(
            f"{model}: cannot be written (No space left on device); the model there is unchanged"
        )
        assert checkpoint.load(model).info["trained_chars"] == before
        assert sorted(p.name for p in disk.iterdir()) == ["model"]  # no half-written folder
        async with session(corpus_dir, "--model", str(model)) as client:
            await wait_for_index(client)
            text, line, col = cut_after(KILO, "self.items.app")
            uri = open_document(client, corpus_dir / "kilo.py", text)
            assert await inline(client, uri, line, col) == ["end(item)"]


async def test_a_training_killed_during_a_checkpoint_write_leaves_a_model_to_serve(
    tiny_model: Path, corpus_dir: Path, tmp_path: Path
) -> None:
    """A real `lstm-complete train`, sent SIGKILL while its temporary folder exists, that is, in
    the middle of a checkpoint write (tests/test_train.py kills a bare writer at set delays). The
    folder loads, as the old model or the new one; the next write clears what the kill left; the
    server serves it."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "server", "train", str(corpus_dir), "--out", str(model)),
            *("--from-scratch", "--size", "tiny", "--steps", "100000", "--eval-every", "5"),
            *("--threads", "1"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    killed_writing = False
    try:
        for _ in range(600_000):  # a bound, not a timing: writes begin within seconds
            if proc.poll() is not None:
                break
            if any(p.name.startswith(".model.tmp-") for p in tmp_path.iterdir()):
                os.kill(proc.pid, signal.SIGKILL)
                killed_writing = True
                break
            time.sleep(0.0002)
    finally:
        proc.kill()
        proc.wait()
    assert killed_writing, proc.returncode
    loaded = checkpoint.load(model)
    assert isinstance(loaded.info["trained_chars"], int)
    checkpoint.save(model, loaded.model, loaded.vocab, loaded.info, loaded.manifest, [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    async with session(corpus_dir, "--model", str(model)) as client:
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        assert await complete(client, uri, line, col) is not None
