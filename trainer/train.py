"""Training: truncated backpropagation through time over long streams of a repository's code.

The training text (every train file, separated by [SEP]) is cut into `batch_size` long streams
(times the number of processes under torchrun). Each step takes the next `seq_len` characters of
every stream, and the LSTM state is carried from one chunk of a stream to the next, so the model
learns from contexts far longer than one chunk. An epoch is one pass along the streams.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn import functional as F
from tqdm import tqdm

from . import checkpoint, scoring
from .config import TrainConfig, TrainError, preset
from .corpus import collect, join
from .folder import Manifest
from .model import CharLSTM, State
from .paths import BASE_MODEL
from .vocab import Vocab


@dataclass
class TrainResult:
    out: Path
    steps: int
    held_out: dict[str, float]
    interrupted: bool


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available")
    return torch.device(name)


class Streams:
    """The training ids as parallel streams, served in consecutive chunks."""

    def __init__(self, ids: np.ndarray, batch: int, seq_len: int, rank: int, world: int) -> None:
        n = len(ids) - 1
        batch = max(1, min(batch, n // ((seq_len + 1) * world)))
        per = n // (batch * world)
        if per < 2:
            raise TrainError(f"the training text ({len(ids)} characters) is too short to train on")
        seq_len = min(seq_len, per - 1)
        rows = np.stack([ids[r * per : r * per + per + 1] for r in range(batch * world)])
        self.rows = torch.from_numpy(rows[rank * batch : (rank + 1) * batch].astype(np.int64))
        self.batch, self.seq_len = batch, seq_len
        self.steps_per_epoch = (per - 1) // seq_len

    def chunk(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        a = (step % self.steps_per_epoch) * self.seq_len
        block = self.rows[:, a : a + self.seq_len + 1]
        return block[:, :-1], block[:, 1:]


def learning_rate(cfg: TrainConfig, peak: float, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return peak * (step + 1) / cfg.warmup_steps
    floor = peak * cfg.min_lr_ratio
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train_step(
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    carried: State,
    grad_clip: float,
    bf16: bool,
) -> tuple[torch.Tensor, State]:
    """One step of truncated backpropagation: the loss, and the state to carry (detached)."""
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits, carried = net(x, carried)
    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
    optimizer.step()
    return loss.detach(), (carried[0].detach().float(), carried[1].detach().float())


def train(
    paths: list[Path],
    out: Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    base: Path | None = BASE_MODEL,
    log: Callable[[str], None] = print,
    progress: Callable[[float, str], None] | None = None,
) -> TrainResult:
    """Train (or fine-tune `base`, or resume what is in `out`) and write the model folder `out`.
    `progress` hears the share of the budget done, with a line of status, as training goes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(cfg.device)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", torch.cuda.current_device())
    say = log if rank == 0 else (lambda _msg: None)

    corpus = collect(paths, cfg.max_bytes, cfg.exclude)
    train_files, held_files = corpus.split(cfg.held_out, cfg.seed)
    if not held_files:
        held_files = train_files  # a one-file corpus: score on what we train on, and say so
        say("only one file: held-out figures are measured on the training file itself")
    say(
        f"corpus: {len(corpus.files)} files, {corpus.chars:,} characters "
        f"({len(train_files)} train, {len(held_files)} held out); {corpus.describe_skipped()}"
    )
    manifest = Manifest(
        roots=[str(Path(p).absolute()) for p in paths],
        files=corpus.manifest(),
        held_out=sorted(f.key for f in held_files),
        seed=cfg.seed,
        held_out_fraction=cfg.held_out,
    )

    # Where to start from: our own checkpoint, the shipped base model, or nothing.
    torch.manual_seed(cfg.seed)
    state: dict[str, Any] | None = None
    info: dict[str, Any] = {"trained_chars": 0}
    metrics: list[dict[str, Any]] = []
    if resume:
        start = checkpoint.load(out)
        state = checkpoint.load_training_state(out)
        model, vocab, info, metrics = start.model, start.vocab, start.info, start.metrics
        best_weights = copy.deepcopy(model.state_dict())
        model.load_state_dict(state["model"])
        say(f"resuming {out} at step {state['step']}")
    elif base is not None:
        start = checkpoint.load(base)
        model, vocab = start.model, start.vocab
        info = {"trained_chars": start.info.get("trained_chars", 0), "base": str(base)}
        best_weights = copy.deepcopy(model.state_dict())
        say(f"fine-tuning the base model {base}")
    else:
        vocab = Vocab.default()
        model = CharLSTM(preset(cfg.size, vocab.size))
        best_weights = None
    model.to(device).train()
    say(f"model: {model.parameter_count():,} parameters {model.config.to_dict()} on {device}")

    train_text, held_text = join(train_files), join(held_files)[: cfg.eval_chars]
    ids = vocab.encode_codes(scoring.match.codes_of(train_text))
    streams = Streams(ids, cfg.batch_size, cfg.seq_len, rank, world)
    fit_set, held_set = scoring.scoring_sets(vocab, train_text, held_text, cfg.fit_chars)
    total = cfg.total_steps(streams.steps_per_epoch)
    if total is None and cfg.minutes is None:
        raise TrainError("give a budget: --steps, --minutes or --epochs")

    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    peak = cfg.lr or (1e-3 if "base" in info else 3e-3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=cfg.weight_decay)
    step, elapsed = 0, 0.0
    carried = model.initial_state(streams.batch, device)
    best = {"bpc": (info.get("held_out_bpc") or math.inf) if resume else math.inf}
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed = state["step"], state["elapsed"]
        carried = (state["h"].to(device), state["c"].to(device))
        torch.set_rng_state(state["rng"])
        if device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"])
    trained_before = state["trained_before"] if state is not None else info.get("trained_chars", 0)

    def done_fraction() -> float:
        by_steps = step / total if total else 0.0
        by_time = elapsed / (cfg.minutes * 60) if cfg.minutes else 0.0
        return max(by_steps, by_time)

    def evaluate() -> dict[str, float]:
        fit_scores = scoring.model_scores(model, fit_set, device, cfg.bf16)
        mixer = scoring.fit_mixer(fit_set, fit_scores)
        figures = scoring.summarize(
            held_set, scoring.model_scores(model, held_set, device, cfg.bf16), mixer
        )
        return {**figures, "mixer": mixer.to_dict()}

    def save(figures: dict[str, Any] | None) -> None:
        nonlocal best_weights
        if figures is not None and figures["bpc"] < best["bpc"]:
            best.update(figures)
            best_weights = copy.deepcopy(model.state_dict())
            info.update(
                held_out_bpc=figures["bpc"],
                held_out_bpc_lstm=figures["bpc_lstm"],
                next_char_accuracy=figures["next_char_accuracy"],
                mixer=figures["mixer"],
                best_step=step,
            )
        info.update(
            trained_chars=trained_before + step * streams.batch * streams.seq_len * world,
            train_config=asdict(cfg),
        )
        if rank != 0:
            return
        current = copy.deepcopy(model.state_dict())
        if best_weights is not None:
            model.load_state_dict(best_weights)
        training_state = {
            "model": current,
            "optimizer": optimizer.state_dict(),
            "step": step,
            "elapsed": elapsed,
            "h": carried[0].cpu(),
            "c": carried[1].cpu(),
            "rng": torch.get_rng_state(),
            "trained_before": trained_before,
        }
        if device.type == "cuda":
            training_state["cuda_rng"] = torch.cuda.get_rng_state()
        try:
            checkpoint.save(out, model, vocab, info, manifest, metrics, training_state)
        finally:
            model.load_state_dict(current)

    bar = tqdm(total=total, initial=step, unit="step", disable=rank != 0 or not sys.stderr.isatty())
    figures: dict[str, Any] | None = None
    last_eval = -1
    interrupted = False
    window_start, window_chars = time.perf_counter(), 0
    say(
        f"training: {streams.batch} streams x {streams.seq_len} characters a step, "
        f"{streams.steps_per_epoch} steps an epoch; writing {out}"
    )
    try:
        while True:
            done = (total is not None and step >= total) or (
                cfg.minutes is not None and elapsed >= cfg.minutes * 60
            )
            if world > 1:  # every rank stops at the same step, or the collectives hang
                flag = torch.tensor([float(done)], device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                done = bool(flag.item())
            if done:
                break
            t0 = time.perf_counter()
            if step % streams.steps_per_epoch == 0:
                carried = model.initial_state(streams.batch, device)
            x, y = (t.to(device) for t in streams.chunk(step))
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, peak, step, done_fraction())
            loss, carried = train_step(net, optimizer, x, y, carried, cfg.grad_clip, cfg.bf16)
            step += 1
            elapsed += time.perf_counter() - t0
            window_chars += x.numel() * world

            if step % cfg.log_every == 0:
                now = time.perf_counter()
                row = {
                    "step": step,
                    "epoch": round(step / streams.steps_per_epoch, 4),
                    "loss": round(loss.item(), 5),
                    "bpc": round(loss.item() / math.log(2), 5),
                    "lr": optimizer.param_groups[0]["lr"],
                    "chars_per_s": round(window_chars / (now - window_start)),
                    "elapsed_s": round(elapsed, 2),
                }
                metrics.append(row)
                window_start, window_chars = now, 0
                left = _time_left(cfg, step, total, elapsed)
                bar.set_postfix_str(
                    f"loss {row['bpc']:.3f} bpc, held-out {best['bpc']:.3f}, "
                    f"{row['chars_per_s']:,} chars/s, {left} left"
                )
                if progress is not None and rank == 0:
                    progress(min(1.0, done_fraction()), f"{row['bpc']:.2f} bits/char, {left} left")
                if bar.disable and step % (cfg.log_every * 4) == 0:
                    say(
                        f"step {step}: loss {row['bpc']:.3f} bits/char, best held-out "
                        f"{best['bpc']:.3f}, {row['chars_per_s']:,} chars/s, {left} left"
                    )
            bar.update(1)
            if step % cfg.eval_every == 0:
                paused = time.perf_counter()
                figures, last_eval = evaluate(), step
                metrics.append({"step": step, "eval": True, **_rounded(figures)})
                say(
                    f"step {step}: held-out {figures['bpc']:.3f} bits/char "
                    f"(LSTM alone {figures['bpc_lstm']:.3f}), next-char accuracy "
                    f"{figures['next_char_accuracy']:.1%}"
                )
                save(figures)
                window_start += time.perf_counter() - paused  # evaluation is not training time
        if last_eval != step:
            figures = evaluate()
            metrics.append({"step": step, "eval": True, **_rounded(figures)})
        save(figures)
    except KeyboardInterrupt:
        interrupted = True
        bar.close()
        say(f"interrupted at step {step}: saving a checkpoint to resume from")
        save(None)
    finally:
        bar.close()
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()
    say(
        f"best held-out: {best.get('bpc', math.nan):.3f} bits/char "
        f"(LSTM alone {best.get('bpc_lstm', math.nan):.3f}); model in {out}"
    )
    return TrainResult(out, step, {k: v for k, v in best.items() if k != "mixer"}, interrupted)


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 5) if isinstance(v, float) else v for k, v in figures.items()}


def _time_left(cfg: TrainConfig, step: int, total: int | None, elapsed: float) -> str:
    if cfg.minutes is not None:
        seconds = cfg.minutes * 60 - elapsed
    elif total:
        seconds = elapsed / max(step, 1) * (total - step)
    else:
        return "?"
    return time.strftime("%H:%M:%S", time.gmtime(max(0.0, seconds)))
