"""Data-parallel training with two CPU processes under torchrun yields a model that loads and
evaluates."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from trainer import checkpoint

from .conftest import write_corpus

STEPS, BATCH, SEQ_LEN, WORLD = 20, 4, 32, 2


def run(args: list[str], cwd, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{args[:6]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done


def test_torchrun_two_cpu_processes_train_a_model_that_loads_and_evaluates(tmp_path):
    corpus = write_corpus(tmp_path / "repo")
    out = tmp_path / "model"
    run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={WORLD}",
            "-m", "server", "train", str(corpus), "--out", str(out), "--from-scratch",
            "--size", "tiny", "--steps", str(STEPS), "--batch-size", str(BATCH),
            "--seq-len", str(SEQ_LEN), "--held-out", "0.2", "--threads", "1",
        ],
        cwd=tmp_path,
        timeout=120,
    )  # fmt: skip

    ckpt = checkpoint.load(out)
    # Each process trains its own streams: the characters seen count both.
    assert ckpt.info["trained_chars"] == STEPS * BATCH * SEQ_LEN * WORLD
    assert ckpt.info["train_config"]["size"] == "tiny" and ckpt.manifest.held_out
    assert not list(tmp_path.glob(".model.*")), "a half-written model folder was left behind"

    # The evaluation command, in its own process, on the held-out files of the same split.
    done = run(
        [
            sys.executable,
            "-m",
            "server",
            "eval",
            str(out),
            str(corpus),
            "--json",
            "--positions",
            "10",
        ],
        cwd=tmp_path,
        timeout=60,
    )
    figures = json.loads(done.stdout)
    uniform = math.log2(ckpt.vocab.size)
    assert 0 < figures["bpc"] < uniform and 0 < figures["bpc_lstm"] < uniform
    # The weights saved are the ones training scored (it in bf16, eval in fp32).
    assert abs(figures["bpc_lstm"] - ckpt.info["held_out_bpc_lstm"]) < 0.05
    assert figures["positions"] == 10
