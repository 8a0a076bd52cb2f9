"""The trainer's command-line subcommands: train, eval, complete, sample, plot, bench."""

from __future__ import annotations

import argparse
import json
import os
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

from .config import DEFAULT_PRESET, PRESETS, TrainConfig, TrainError, UpdateConfig
from .corpus import DEFAULT_MAX_BYTES, CorpusError
from .folder import CONFIG, CheckpointError
from .paths import BASE_MODEL, default_model_dir

# The standard library of the running interpreter: a corpus every machine has. Its own test
# suite is left out (it is mostly fixtures, some deliberately undecodable).
STDLIB_EXCLUDES = ["test/", "tests/", "idle_test/"]


class UsageError(Exception):
    """Bad input from the command line: reported as one line, exit status 2."""


def stdlib_path() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def add_commands(sub: argparse._SubParsersAction) -> None:
    from . import compression, plot

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
    p.add_argument(
        "--update",
        action="store_true",
        help="bring the model in --out up to date with the files changed since it was trained",
    )
    p.add_argument(
        "--max-regression",
        type=float,
        default=UpdateConfig.margin,
        help="with --update: bits/char of held-out loss an update may add and still be kept",
    )
    p.add_argument(
        "--lr", type=float, help="peak learning rate (3e-3 from scratch, 1e-3 fine-tuning)"
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--eval-every", type=int, default=250, help="steps between held-out evaluations")
    p.add_argument("--held-out", type=float, default=0.05, help="share of files held out")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="skip larger files")
    p.add_argument("--exclude", action="append", default=[], help="gitignore-style pattern")
    p.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument(
        "--nice", type=int, default=0, help="lower this process's CPU priority by N (0 to 19)"
    )
    p.add_argument("--progress-json", action="store_true", help="progress as JSON lines on stdout")
    p.set_defaults(run=run_train)

    p = sub.add_parser("eval", help="held-out figures and completion metrics of a model")
    p.add_argument("model", type=Path, metavar="MODEL_DIR")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    p.add_argument(
        "--stdlib", action="store_true", help="evaluate on this Python's standard library"
    )
    p.add_argument("--exclude", action="append", default=[], help="gitignore-style pattern")
    p.add_argument(
        "--positions", type=int, default=500, help="cursor positions for completion metrics"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beam", type=int, default=1, help="beam width for the suggestions (1: greedy)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(run=run_eval)

    p = sub.add_parser("complete", help="print the suggestions at a position of a file")
    p.add_argument("model", type=Path, metavar="MODEL_DIR")
    p.add_argument("position", metavar="FILE:LINE:COL", help="1-based line and column")
    p.add_argument("-n", type=int, default=5, help="how many suggestions")
    p.add_argument("--corpus", type=Path, action="append", default=[], help="code to match against")
    p.set_defaults(run=run_complete)

    p = sub.add_parser("sample", help="let the model write freely")
    p.add_argument("model", type=Path, metavar="MODEL_DIR")
    p.add_argument("--prompt", default="")
    p.add_argument("--chars", type=int, default=400)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run_sample)

    add_bench_command(sub)
    plot.add_command(sub)
    compression.add_command(sub)


def add_bench_command(sub: argparse._SubParsersAction) -> None:
    # Here, not in bench.py: that imports torch, and the language server builds this parser.
    p = sub.add_parser("bench", help="training characters per second, ours beside bare nn.LSTM")
    p.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="corpus (default: a stdlib slice)"
    )
    p.add_argument(
        "--sizes", type=size_list, help=f"comma-separated presets from {', '.join(PRESETS)}"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--seconds", type=float, default=10.0, help="per measurement (default 10)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--fp32", action="store_true", help="no bf16 autocast (in both loops)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--json", action="store_true", help="rows as JSON")
    p.set_defaults(run=run_bench)


def size_list(spec: str) -> list[str]:
    sizes = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in PRESETS]
    if unknown or not sizes:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(unknown) or 'empty list'}; choose from {', '.join(PRESETS)}"
        )
    return sizes


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
    if args.nice:
        os.nice(args.nice)
    out = args.out or default_model_dir(paths[0])
    report = None
    if args.progress_json:

        def report(fraction: float, message: str) -> None:
            print(json.dumps({"progress": round(fraction, 4), "message": message}), flush=True)

    if args.update:
        return run_update(args, paths, exclude, out, report)
    if args.minutes is None and args.steps is None and args.epochs is None:
        args.minutes = 10.0
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
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line, not one per process
        print(f"model folder: {out}", flush=True)
    result = train(paths, out, cfg, resume=args.resume, base=base, progress=report)
    return 130 if result.interrupted else 0


def run_update(
    args: argparse.Namespace,
    paths: list[Path],
    exclude: list[str],
    out: Path,
    report: Callable[[float, str], None] | None,
) -> int:
    from .update import update

    if not (out / CONFIG).exists():
        raise UsageError(f"{out}: no model to update; train one first (without --update)")
    cfg = UpdateConfig(
        seed=args.seed,
        device=args.device,
        bf16=not args.fp32,
        max_bytes=args.max_bytes,
        exclude=exclude,
        margin=args.max_regression,
    )
    if args.lr is not None:
        cfg.lr = args.lr
    if args.steps is not None:
        cfg.steps = args.steps
    if args.minutes is not None:
        cfg.seconds = args.minutes * 60
    print(f"model folder: {out}", flush=True)
    result = update(out, paths, cfg, progress=report)
    if args.progress_json:
        print(json.dumps({"result": result.to_dict()}), flush=True)
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from .bench import run

    return run(args)


def run_eval(args: argparse.Namespace) -> int:
    from .checkpoint import load
    from .evaluate import evaluate

    paths, exclude = corpus_paths(args)
    ckpt = load(args.model)
    figures = evaluate(ckpt, paths, args.positions, args.seed, exclude, beam=args.beam)
    if args.json:
        print_json(figures)
        return 0
    base = figures["copy_baseline"]
    print(f"held-out: {figures['chars']:,} characters in {figures['held_out_files']} files")
    print(f"  bits per character     {figures['bpc']:.3f}  (LSTM alone {figures['bpc_lstm']:.3f})")
    print(
        f"  next-char accuracy     {figures['next_char_accuracy']:.1%}"
        f"  (LSTM alone {figures['next_char_accuracy_lstm']:.1%})"
    )
    print(f"completion at {figures['positions']} positions    model   copy baseline")
    for key, label in [
        ("line_exact_match", "exact rest of line"),
        ("identifier_exact_match", "exact rest of identifier"),
        ("line_prefix_match", "share of line right"),
    ]:
        print(f"  {label:<26} {figures[key]:6.1%}   {base[key]:6.1%}")
    print("examples (cursor at |):")
    for ex in figures["examples"]:
        print(f"  {ex['file']}:{ex['line']}  {ex['before'].strip()[-40:]}|")
        for label in ("model", "copy", "actual"):
            print(f"      {label + ':':<8}{ex[label]!r}")
    return 0


def parse_position(spec: str) -> tuple[Path, int, int]:
    try:
        file, line, col = spec.rsplit(":", 2)
        return Path(file), int(line), int(col)
    except ValueError:
        raise UsageError(f"{spec}: expected FILE:LINE:COL with 1-based numbers") from None


def run_complete(args: argparse.Namespace) -> int:
    from .corpus import collect, join
    from .folder import load
    from .match import MatchIndex
    from .sampling import Predictor, Stop

    file, line, col = parse_position(args.position)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{file}: cannot be read as UTF-8 text ({err})") from None
    lines = text.split("\n")
    if not 1 <= line <= len(lines) or not 1 <= col <= len(lines[line - 1]) + 1:
        raise UsageError(f"{args.position}: outside the file ({len(lines)} lines)")
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
    ckpt = load(args.model)
    index = MatchIndex(join(collect(args.corpus).files)) if args.corpus else None
    predictor = Predictor(ckpt, index)
    logits, state = predictor.start()
    logits, state = predictor.feed(text[:offset], logits, state)
    stop = Stop(max_chars=120, block=True)
    for s in predictor.continuations(text[:offset], logits, state, args.n, stop):
        print(f"{s.probability:7.2%}  {s.text!r}")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from .folder import load
    from .sampling import Predictor, Stop, Strategy

    predictor = Predictor(load(args.model))
    logits, state = predictor.start()
    logits, state = predictor.feed(args.prompt, logits, state)
    stop = Stop(max_chars=args.chars, end_of_line=False)
    kind = "greedy" if args.temperature <= 0 else "sample"
    strategy = Strategy(kind=kind, temperature=args.temperature, seed=args.seed)
    [text] = predictor.continuations(args.prompt, logits, state, 1, stop, strategy)
    print(args.prompt + text.text)
    return 0


def main_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input, not our bug: shown as one line."""
    return (UsageError, CorpusError, CheckpointError, TrainError)


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")
