"""Learning curves of a model folder, drawn from its metrics.jsonl to a PNG.

    lstm-complete plot MODEL_DIR [--out curves.png]

Top: the training loss (bits per character of each logged step, and a running median of them)
and every held-out evaluation, for the LSTM mixed with the match model (`bpc`) and alone
(`bpc_lstm`). Bottom: training characters per second. Needs matplotlib: the `plot` extra.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from .folder import CONFIG, METRICS, CheckpointError, read_metrics

SMOOTHING = 9  # logged steps in the running median: one step's loss is noisy


def running_median(values: list[float], width: int = SMOOTHING) -> list[float]:
    half = width // 2
    out = []
    for i in range(len(values)):
        # Centred, and narrowed near the start, where the loss falls too fast for a window that
        # leans forward; near the end the window just loses its missing side.
        k = min(half, i)
        out.append(statistics.median(values[i - k : i + k + 1]))
    return out


def _title(folder: Path, info: dict[str, Any]) -> str:
    model = info.get("model", {})
    title = folder.name
    if model:
        title += f": {model['num_layers']} x {model['hidden_size']} LSTM"
    if "held_out_bpc" in info:
        title += f", best held-out {info['held_out_bpc']:.3f} bits/char"
        if "best_step" in info:
            title += f" at step {info['best_step']:,}"
    return title


def _step_label(info: dict[str, Any]) -> str:
    cfg = info.get("train_config", {})
    if "batch_size" in cfg and "seq_len" in cfg:
        return f"step ({cfg['batch_size']} streams x {cfg['seq_len']} characters a process)"
    return "step"


def draw(folder: Path, out: Path) -> Path:
    """Write the curves of the model folder `folder` to the PNG `out`."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    rows = read_metrics(folder)
    if not rows:
        raise CheckpointError(f"{folder / METRICS}: missing or empty; nothing to plot")
    try:
        info = json.loads((folder / CONFIG).read_text())
    except (OSError, json.JSONDecodeError):
        info = {}  # the curves need only the metrics; the title does without
    train = [r for r in rows if not r.get("eval") and "bpc" in r]
    evals = [r for r in rows if r.get("eval")]

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    if train:
        steps = [r["step"] for r in train]
        bpc = [r["bpc"] for r in train]
        top.plot(steps, bpc, color="tab:blue", alpha=0.25, linewidth=0.8, label="training loss")
        top.plot(steps, running_median(bpc), color="tab:blue", label="training loss, median")
        bottom.plot(steps, [r["chars_per_s"] for r in train], color="tab:gray")
    if evals:
        steps = [r["step"] for r in evals]
        top.plot(
            steps,
            [r["bpc_lstm"] for r in evals],
            "s-",
            color="tab:orange",
            label="held-out, LSTM alone",
        )
        top.plot(
            steps,
            [r["bpc"] for r in evals],
            "o-",
            color="tab:green",
            label="held-out, with the match model",
        )
    # Losses fall from ~8 to ~1 bits/char: a log scale keeps the end of training legible.
    top.set_yscale("log")
    top.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3, 4, 5, 6, 8)))
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    top.yaxis.set_minor_formatter(NullFormatter())
    top.set_ylabel("bits per character")
    top.grid(True, which="both", alpha=0.3)
    top.legend()
    top.set_title(_title(folder, info))
    bottom.set_ylabel("characters/s")
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    bottom.set_xlabel(_step_label(info))
    bottom.grid(True, alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def run_plot(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(
            "lstm-complete plot needs matplotlib: pip install lstm-complete[plot]", file=sys.stderr
        )
        return 2
    # Not inside the model folder: the next save replaces that folder whole.
    out = args.out or Path(f"{args.model_dir.absolute().name}-curves.png")
    print(draw(args.model_dir, out))
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="draw a model folder's learning curves to a PNG")
    p.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    p.add_argument("--out", type=Path, help="PNG to write (default: ./NAME-curves.png)")
    p.set_defaults(run=run_plot)
