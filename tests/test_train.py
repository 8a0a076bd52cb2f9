import json
import os
import signal
import subprocess
import sys
import time

import pytest

from trainer import checkpoint
from trainer.folder import read_metrics
from trainer.train import train

from .conftest import tiny_config


def loss_rows(folder):
    return [(r["step"], r["loss"]) for r in read_metrics(folder) if "loss" in r]


def test_training_writes_a_complete_model_folder(tiny_model):
    ckpt = checkpoint.load(tiny_model)
    assert ckpt.info["trained_chars"] > 0 and ckpt.info["held_out_bpc"] < 8
    assert len(ckpt.mixer.bias) == checkpoint_buckets()
    assert set(ckpt.manifest.held_out) <= set(ckpt.manifest.files)
    assert any(r.get("eval") for r in ckpt.metrics)


def checkpoint_buckets():
    from trainer.match import N_BUCKETS

    return N_BUCKETS


def test_resume_after_interrupt_reproduces_uninterrupted_training(corpus_dir, tmp_path):
    cfg = tiny_config(steps=40, eval_every=20, log_every=1, seed=7)
    train([corpus_dir], tmp_path / "straight", cfg, base=None, log=lambda _m: None)

    def interrupt_at_20(message):
        if message.startswith("step 20:"):
            raise KeyboardInterrupt

    first = train([corpus_dir], tmp_path / "split", cfg, base=None, log=interrupt_at_20)
    assert first.interrupted and first.steps == 20
    train([corpus_dir], tmp_path / "split", cfg, resume=True, base=None, log=lambda _m: None)
    assert loss_rows(tmp_path / "split") == loss_rows(tmp_path / "straight")
    assert len(loss_rows(tmp_path / "straight")) == 40


def test_fine_tuning_starts_from_the_given_model(tiny_model, corpus_dir, tmp_path):
    before = checkpoint.load(tiny_model).info["trained_chars"]
    train(
        [corpus_dir],
        tmp_path / "tuned",
        tiny_config(steps=10),
        base=tiny_model,
        log=lambda _m: None,
    )
    tuned = checkpoint.load(tmp_path / "tuned")
    assert tuned.info["base"] == str(tiny_model)
    assert tuned.info["trained_chars"] == before + 10 * 4 * 32


def test_ctrl_c_saves_a_resumable_checkpoint(corpus_dir, tmp_path):
    out = tmp_path / "model"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "train",
            str(corpus_dir),
            "--from-scratch",
            "--size",
            "tiny",
            "--steps",
            "1000000",
            "--out",
            str(out),
            "--batch-size",
            "4",
            "--seq-len",
            "32",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in proc.stdout:
        if line.startswith("training:"):
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, output
    assert "interrupted at step" in output
    state = checkpoint.load_training_state(out)
    assert state["step"] > 0


def test_a_failed_write_leaves_the_previous_checkpoint(tiny_model, tmp_path, monkeypatch):
    ckpt = checkpoint.load(tiny_model)
    dest = tmp_path / "model"
    checkpoint.save(dest, ckpt.model, ckpt.vocab, ckpt.info, ckpt.manifest, [{"step": 1}])

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_file", disk_full)
    with pytest.raises(checkpoint.CheckpointError, match="No space left on device"):
        checkpoint.save(dest, ckpt.model, ckpt.vocab, {"trained_chars": 99}, ckpt.manifest, [])
    assert checkpoint.load(dest).metrics == [{"step": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


KILL_WRITER = """
import sys, torch
from pathlib import Path
from trainer import checkpoint
from trainer.config import preset
from trainer.model import CharLSTM
ckpt = checkpoint.load(Path(sys.argv[1]))
big = CharLSTM(preset("medium", ckpt.vocab.size))
print("ready", flush=True)
for i in range(1000):
    checkpoint.save(Path(sys.argv[2]), big, ckpt.vocab, {"trained_chars": i}, ckpt.manifest, [])
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.4])
def test_a_write_killed_midway_leaves_a_loadable_checkpoint(tiny_model, tmp_path, delay):
    dest = tmp_path / "model"
    ckpt = checkpoint.load(tiny_model)
    checkpoint.save(dest, ckpt.model, ckpt.vocab, {"trained_chars": -1}, ckpt.manifest, [])
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_WRITER, str(tiny_model), str(dest)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    loaded = checkpoint.load(dest)
    assert isinstance(loaded.info["trained_chars"], int)


def test_metrics_are_json_lines(tiny_model):
    lines = (tiny_model / "metrics.jsonl").read_text().splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
