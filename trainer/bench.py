"""Training throughput: our training loop beside a bare nn.LSTM step on the same shapes.

    lstm-complete bench                       # every preset but large, on the CPU (and CUDA if any)
    lstm-complete bench --sizes small,large --device cuda --seconds 30
    lstm-complete bench --threads 1 --json    # machine-readable rows

For each preset and device it measures, in the same run:

- ours: `trainer.train.train` itself, from scratch on a corpus (PATH, or by default a slice of
  this Python's standard library), read from the characters per second it logs in metrics.jsonl.
  The first logged window is warm-up and is dropped; no evaluation runs inside the timed windows.
- bare: embedding -> nn.LSTM -> dropout -> linear head, cross-entropy, backward and an AdamW step
  on random ids of the same batch and sequence shapes, under the same bf16 autocast setting.

The ratio ours / bare is what our data pipeline and loop cost (learning-rate schedule, chunking,
carrying the state, gradient clipping, logging); the aim is 90% or more.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from .cli import stdlib_path
from .config import PRESETS, TrainConfig, TrainError, preset
from .folder import read_metrics
from .model import CharLSTM
from .train import pick_device, train
from .vocab import Vocab

# About 870K characters: 32 streams of some 200 chunks of 128 (epochs wrap), and quick to prepare
# (the whole standard library costs about 11 s of corpus and scoring-set preparation per preset).
STDLIB_SLICE = ("asyncio", "email")
WINDOWS = 8  # measured log windows of our loop, after one warm-up window


@dataclass
class BenchRow:
    device: str
    size: str
    batch_size: int
    seq_len: int
    bf16: bool
    threads: int
    ours_chars_per_s: float
    bare_chars_per_s: float

    @property
    def ratio(self) -> float:
        return self.ours_chars_per_s / self.bare_chars_per_s

    def to_dict(self) -> dict[str, object]:
        row: dict[str, object] = asdict(self)
        row["ours_chars_per_s"] = round(self.ours_chars_per_s)
        row["bare_chars_per_s"] = round(self.bare_chars_per_s)
        return {**row, "ratio": round(self.ratio, 4)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class BareStep:
    """Embedding -> nn.LSTM -> dropout -> head, cross-entropy, backward, AdamW: nothing else."""

    def __init__(self, size: str, device: torch.device, batch: int, seq_len: int, bf16: bool):
        cfg = preset(size, Vocab.default().size)
        self.model = CharLSTM(cfg).to(device).train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.01)
        self.x = torch.randint(cfg.vocab_size, (batch, seq_len), device=device)
        self.y = torch.randint(cfg.vocab_size, (batch, seq_len), device=device)
        self.device, self.bf16, self.vocab_size = device, bf16, cfg.vocab_size

    def step(self) -> None:
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            logits, _ = self.model(self.x)
        loss = F.cross_entropy(logits.float().reshape(-1, self.vocab_size), self.y.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def seconds_per_step(self) -> float:
        for _ in range(3):  # allocator, autocast weight casts, kernel selection
            self.step()
        _sync(self.device)
        start = time.perf_counter()
        for _ in range(3):
            self.step()
        _sync(self.device)
        return (time.perf_counter() - start) / 3

    def window_rates(self, windows: int, steps: int) -> list[float]:
        """Characters per second over each of `windows` runs of `steps` steps."""
        chars = steps * self.x.numel()
        rates = []
        for _ in range(windows):
            _sync(self.device)
            start = time.perf_counter()
            for _ in range(steps):
                self.step()
            _sync(self.device)
            rates.append(chars / (time.perf_counter() - start))
        return rates


def ours_rates(
    paths: list[Path],
    size: str,
    device: torch.device,
    batch: int,
    seq_len: int,
    bf16: bool,
    steps_per_window: int,
) -> list[float]:
    """Characters per second of `trainer.train.train` in each logged window after the first."""
    steps = steps_per_window * (WINDOWS + 1)
    cfg = TrainConfig(
        size=size,
        batch_size=batch,
        seq_len=seq_len,
        steps=steps,
        eval_every=steps + 1,  # only the final evaluation, after the last timed window
        eval_chars=2_000,
        fit_chars=2_000,
        log_every=steps_per_window,
        device=str(device),
        bf16=bf16,
    )
    with tempfile.TemporaryDirectory(prefix="lstm-bench-") as tmp:
        out = Path(tmp) / "model"
        # A stderr that is not a terminal keeps train's progress bar out of the table.
        with contextlib.redirect_stderr(io.StringIO()):
            result = train(paths, out, cfg, base=None, log=lambda _msg: None)
        rows = [r for r in read_metrics(out) if "chars_per_s" in r]
        trained = json.loads((out / "config.json").read_text())["trained_chars"]
    if trained != result.steps * batch * seq_len:
        raise TrainError(
            f"the corpus is too short for {batch} streams of {seq_len} characters: "
            "give a larger PATH"
        )
    return [float(r["chars_per_s"]) for r in rows[1:]]


def measure(
    paths: list[Path],
    sizes: list[str],
    device: torch.device,
    batch: int = 32,
    seq_len: int = 128,
    bf16: bool = True,
    seconds: float = 10.0,
) -> list[BenchRow]:
    """Each rate is the median of its windows: this machine's other load only ever slows a
    window down, and the bare windows are split before and after ours so drift hits both."""
    rows = []
    for size in sizes:
        bare = BareStep(size, device, batch, seq_len, bf16)
        per_window = max(1, round(seconds / WINDOWS / bare.seconds_per_step()))
        bare_rates = bare.window_rates(WINDOWS // 2, per_window)
        ours = ours_rates(paths, size, device, batch, seq_len, bf16, per_window)
        bare_rates += bare.window_rates(WINDOWS - WINDOWS // 2, per_window)
        rows.append(
            BenchRow(
                str(device),
                size,
                batch,
                seq_len,
                bf16,
                torch.get_num_threads(),
                statistics.median(ours),
                statistics.median(bare_rates),
            )
        )
    return rows


def format_table(rows: list[BenchRow]) -> str:
    lines = [f"{'device':<8}{'size':<8}{'ours chars/s':>14}{'bare chars/s':>14}{'ratio':>8}"]
    for r in rows:
        lines.append(
            f"{r.device:<8}{r.size:<8}{r.ours_chars_per_s:>14,.0f}"
            f"{r.bare_chars_per_s:>14,.0f}{r.ratio:>8.1%}"
        )
    return "\n".join(lines)


def _devices(name: str) -> list[torch.device]:
    if name == "auto":
        return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    return [pick_device(name)]


def default_sizes(device: torch.device) -> list[str]:
    # large trains at a few thousand characters a second on a small CPU: only when asked for.
    return [s for s in PRESETS if device.type == "cuda" or s != "large"]


def run(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = args.paths or [stdlib_path() / name for name in STDLIB_SLICE]
    rows: list[BenchRow] = []
    for device in _devices(args.device):
        sizes = args.sizes or default_sizes(device)
        bf16 = not args.fp32
        rows += measure(paths, sizes, device, args.batch_size, args.seq_len, bf16, args.seconds)
    if args.json:
        json.dump([r.to_dict() for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(rows))
    return 0
