"""Settings of a model and of its training, and the error training reports: plain data, without
torch, for the command line and the language server (which never imports torch)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .corpus import DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    embed_dim: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every weight of the model by its state_dict name: what a weights file must hold."""
        gates = 4 * self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {"embed.weight": (self.vocab_size, self.embed_dim)}
        for k in range(self.num_layers):
            inputs = self.embed_dim if k == 0 else self.hidden_size
            shapes[f"lstm.weight_ih_l{k}"] = (gates, inputs)
            shapes[f"lstm.weight_hh_l{k}"] = (gates, self.hidden_size)
            shapes[f"lstm.bias_ih_l{k}"] = (gates,)
            shapes[f"lstm.bias_hh_l{k}"] = (gates,)
        shapes["head.weight"] = (self.vocab_size, self.hidden_size)
        shapes["head.bias"] = (self.vocab_size,)
        return shapes


PRESETS: dict[str, dict[str, float]] = {
    "tiny": dict(embed_dim=16, hidden_size=64, num_layers=1, dropout=0.0),
    "small": dict(embed_dim=64, hidden_size=256, num_layers=2, dropout=0.1),
    "medium": dict(embed_dim=64, hidden_size=512, num_layers=2, dropout=0.1),
    "large": dict(embed_dim=128, hidden_size=1024, num_layers=3, dropout=0.2),
}
DEFAULT_PRESET = "small"  # ~40K chars/s of bf16 training on a 2-core CPU


def preset(name: str, vocab_size: int) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown size {name!r}; choose one of {', '.join(PRESETS)}")
    return ModelConfig(vocab_size=vocab_size, **PRESETS[name])


class TrainError(Exception):
    """Training cannot start: bad input, stated in one line."""


@dataclass
class TrainConfig:
    size: str = DEFAULT_PRESET
    batch_size: int = 32
    seq_len: int = 128
    lr: float | None = None  # peak (3e-3 from scratch, 1e-3 fine-tuning); warmup, cosine decay
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    steps: int | None = None  # budget: whichever of steps, minutes, epochs is given
    minutes: float | None = None
    epochs: float | None = None
    eval_every: int = 250
    eval_chars: int = 250_000  # held-out characters scored at each evaluation
    fit_chars: int = 100_000  # training characters the match-model weights are fitted on
    log_every: int = 25
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # autocast; 2.2x faster training on these CPUs, and the norm on CUDA
    held_out: float = 0.05
    max_bytes: int = DEFAULT_MAX_BYTES
    exclude: list[str] = field(default_factory=list)

    def total_steps(self, steps_per_epoch: int) -> int | None:
        if self.steps is not None:
            return self.steps
        if self.epochs is not None:
            return max(1, math.ceil(self.epochs * steps_per_epoch))
        return None


@dataclass
class UpdateConfig:
    weight: int = 16  # copies of each changed file in the update's text: the new code, weighted up
    replay: float = 2.0  # characters of unchanged files replayed per character of changed text
    min_replay_chars: int = 20_000
    max_changed_chars: int = 300_000  # a branch switch that touches everything: learn a share
    # The same learning whatever else the machine is doing: a number of steps, not a time (with
    # a time as a safety net). Under load, a time budget learned a new name in 2 updates of 10.
    steps: int = 60
    passes: float = 2.0  # passes over the update's text, at most
    seconds: float = 60.0
    batch_size: int = 8
    seq_len: int = 128
    # Measured on a workspace model (the base model fine-tuned 1 minute on six stdlib packages),
    # 10-second updates: 1e-3 worsened its held-out text by 0.05-0.07 bits/char, 5e-4 by 0.03,
    # 2e-4 by 0.01 while beginning to learn a new name.
    lr: float = 2e-4
    warmup_steps: int = 10
    grad_clip: float = 1.0
    margin: float = 0.02  # bits per character held-out text may lose, over all updates together
    guard_chars: int = 40_000  # held-out characters the check scores
    seed: int = 0
    device: str = "auto"
    bf16: bool = True
    max_bytes: int = DEFAULT_MAX_BYTES
    exclude: list[str] = field(default_factory=list)
