"""What general-purpose compressors achieve on the held-out text: the figures to beat.

    lstm-complete compress-baseline --stdlib
    lstm-complete compress-baseline PATH [--eval-chars 0] [--json]

Measured as conditional compression, as the model is: each compressor first sees the training
text, and what the held-out text adds is its cost,

    8 * (len(compress(train + SEP + held)) - len(compress(train))) / characters in held

with the same corpus, split and separator as training (`trainer.train`), and by default the same
first 250,000 held-out characters that training scores (`--eval-chars 0`: all of them).

- xz: Python's lzma at preset 9 | PRESET_EXTREME, byte for byte what `xz -9e` writes.
- PPMd: pyppmd's variant H (the PPMd7 that 7-Zip uses) at order 32 with 256 MB of model memory.
  That is what `7z a -m0=PPMd -mx=9` picks for a corpus of this size (its archive lists the
  method as PPMD:o32:mem28), and on this machine's standard library both give the same figure.
"""

from __future__ import annotations

import argparse
import lzma
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .corpus import DEFAULT_MAX_BYTES, CorpusError, collect, join

PPMD_ORDER = 32
PPMD_MEMORY = 256 << 20
EVAL_CHARS = TrainConfig.eval_chars


class MissingExtra(Exception):
    """pyppmd is an optional dependency: named in one line with the command that installs it."""


def xz_size(data: bytes) -> int:
    return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def ppmd_size(data: bytes) -> int:
    try:
        import pyppmd
    except ImportError:
        raise MissingExtra("PPMd needs pyppmd: pip install lstm-complete[bench]") from None
    encoder = pyppmd.Ppmd7Encoder(PPMD_ORDER, PPMD_MEMORY)
    return len(encoder.encode(data)) + len(encoder.flush())


COMPRESSORS: dict[str, Callable[[bytes], int]] = {"xz": xz_size, "ppmd": ppmd_size}


def conditional_bpc(train_text: str, held_text: str) -> dict[str, float]:
    """Bits per held-out character that each compressor spends once it has seen train_text."""
    if not held_text:
        raise ValueError("no held-out text to measure")
    before = train_text.encode("utf-8")
    after = (train_text + "\0" + held_text).encode("utf-8")
    return {
        name: 8 * (size(after) - size(before)) / len(held_text)
        for name, size in COMPRESSORS.items()
    }


def measure(
    paths: list[Path],
    *,
    held_out: float = 0.05,
    seed: int = 0,
    eval_chars: int = EVAL_CHARS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: Iterable[str] = (),
) -> dict[str, Any]:
    """The conditional figures on a corpus split as `trainer.train.train` splits it (0 for
    `eval_chars`: the whole held-out text)."""
    start = time.perf_counter()
    corpus = collect(paths, max_bytes, exclude)
    train_files, held_files = corpus.split(held_out, seed)
    if not held_files:
        raise CorpusError("only one usable file: nothing is held out to measure")
    train_text, held_text = join(train_files), join(held_files)
    if eval_chars:
        held_text = held_text[:eval_chars]
    figures = conditional_bpc(train_text, held_text)
    return {
        "train_chars": len(train_text),
        "held_chars": len(held_text),
        "held_files": len(held_files),
        "xz_bpc": round(figures["xz"], 4),
        "ppmd_bpc": round(figures["ppmd"], 4),
        "xz": "lzma preset 9e (xz -9e)",
        "ppmd": f"PPMd H order {PPMD_ORDER}, {PPMD_MEMORY >> 20} MB (7z -m0=PPMd -mx=9)",
        "seconds": round(time.perf_counter() - start, 1),
    }


def run_compress_baseline(args: argparse.Namespace) -> int:
    from .cli import corpus_paths, print_json  # here, not above: the CLI module imports this one

    paths, exclude = corpus_paths(args)
    try:
        result = measure(
            paths,
            held_out=args.held_out,
            seed=args.seed,
            eval_chars=args.eval_chars,
            max_bytes=args.max_bytes,
            exclude=exclude,
        )
    except MissingExtra as err:
        print(f"lstm-complete: {err}", file=sys.stderr)
        return 2
    if args.json:
        print_json(result)
        return 0
    print(
        f"held-out: {result['held_chars']:,} characters of {result['held_files']} files, "
        f"after {result['train_chars']:,} training characters"
    )
    print(f"xz -9e    {result['xz_bpc']:.3f} bits/char")
    print(f"PPMd o32  {result['ppmd_bpc']:.3f} bits/char")
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress-baseline",
        help="held-out bits per character of xz and PPMd, conditioned on the training text",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="folders or .py files")
    p.add_argument("--stdlib", action="store_true", help="this Python's standard library")
    p.add_argument("--held-out", type=float, default=0.05, help="share of files held out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--eval-chars",
        type=int,
        default=EVAL_CHARS,
        help=f"held-out characters measured, as training scores them (default {EVAL_CHARS:,}; "
        "0: all)",
    )
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="skip larger files")
    p.add_argument("--exclude", action="append", default=[], help="gitignore-style pattern")
    p.add_argument("--json", action="store_true", help="the figures as JSON")
    p.set_defaults(run=run_compress_baseline)
