"""The trainer's command-line subcommands: train, eval, complete, sample, plot, bench."""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
from pathlib import Path

from .checkpoint import CheckpointError
from .corpus import DEFAULT_MAX_BYTES, CorpusError
from .model import DEFAULT_PRESET, PRESETS
from .paths import BASE_MODEL, default_model_dir
from .train import TrainConfig, TrainError

# The standard library of the running interpreter: a corpus every machine has. Its own test
# suite is left out (it is mostly fixtures, some deliberately undecodable).
STDLIB_EXCLUDES = ["test/", "tests/", "idle_test/"]


class UsageError(Exception):
    """Bad input from the command line: reported as one line, exit status 2."""


def stdlib_path() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model on the Python files under PATH")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="folders or .py files")
    p.add_argument("--stdlib", action="store_true", help="train on this Python's standard library")
    p.add_argument("--out", type=Path, help="model folder (default: the cache folder for PATH)")
    p.add_argument("--size", choices=list(PRESETS), default=DEFAULT_PRESET)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float)
    budget.add_argument("--steps", type=int)
    budget.add_argument("--epochs", type=float)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the training saved in --out")
    p.add_argument("--from-scratch", action="store_true", help="do not start from the base model")
    p.add_argument("--lr", type=float, help="peak learning rate (3e-3 from scratch, 1e-3 fine-tuning)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--eval-every", type=int, default=250, help="steps between held-out evaluations")
    p.add_argument("--held-out", type=float, default=0.05, help="share of files held out")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="skip larger files")
    p.add_argument("--exclude", action="append", default=[], help="gitignore-style pattern")
    p.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.set_defaults(run=run_train)


def corpus_paths(args: argparse.Namespace) -> tuple[list[Path], list[str]]:
    if args.stdlib:
        return [stdlib_path()], [*STDLIB_EXCLUDES, *args.exclude]
    if not args.paths:
        raise UsageError("give a PATH to train on, or --stdlib")
    return args.paths, args.exclude


def run_train(args: argparse.Namespace) -> int:
    import torch

    from .train import train

    paths, exclude = corpus_paths(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.minutes is None and args.steps is None and args.epochs is None:
        args.minutes = 10.0
    out = args.out or default_model_dir(paths[0])
    cfg = TrainConfig(
        size=args.size,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        lr=args.lr,
        steps=args.steps,
        minutes=args.minutes,
        epochs=args.epochs,
        eval_every=args.eval_every,
        seed=args.seed,
        device=args.device,
        bf16=not args.fp32,
        held_out=args.held_out,
        max_bytes=args.max_bytes,
        exclude=exclude,
    )
    base = None if args.from_scratch or args.resume else BASE_MODEL
    if base is not None and not (base / "model.safetensors").exists():
        raise UsageError(f"the base model is missing from {base}; use --from-scratch")
    print(f"model folder: {out}", flush=True)
    result = train(paths, out, cfg, resume=args.resume, base=base)
    return 130 if result.interrupted else 0


def main_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input, not our bug: shown as one line."""
    return (UsageError, CorpusError, CheckpointError, TrainError)


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")
