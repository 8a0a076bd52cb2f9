"""Held-out bits per character and next-character accuracy, for the LSTM alone and mixed with
the match model; and the fitting of the mixing weights."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import match
from .model import CharLSTM
from .vocab import Vocab


@dataclass
class ScoringSet:
    """Positions of a stream to score: each target, the character before it, and what the match
    model predicts there (-1 for nothing) with its length bucket."""

    inputs: np.ndarray
    targets: np.ndarray
    match_ids: np.ndarray
    buckets: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)


def scoring_sets(
    vocab: Vocab, train_text: str, held_text: str, fit_chars: int
) -> tuple[ScoringSet, ScoringSet]:
    """A set at the end of the training text (for fitting the mixer) and one over the held-out
    text, which may match anything before it: as conditional compression measures."""
    codes = match.codes_of(train_text + "\0" + held_text)
    boundary = len(train_text)
    start = max(1, boundary - fit_chars)
    pred, length = match.stream_predictions(codes, start)
    ids = vocab.encode_codes(codes).astype(np.int64)
    pred_ids = np.where(pred >= 0, vocab.encode_codes(np.maximum(pred, 0)), -1).astype(np.int64)
    buckets = np.searchsorted(match._EDGES, length, side="right")

    def cut(a: int, b: int) -> ScoringSet:
        return ScoringSet(ids[a - 1 : b - 1], ids[a:b], pred_ids[a:b], buckets[a:b])

    return cut(start, boundary), cut(boundary + 1, len(codes))


@dataclass
class ModelScores:
    """Per position: the model's probability of the target and of the match model's prediction,
    its favourite character and that character's probability."""

    p_true: np.ndarray
    p_match: np.ndarray
    top: np.ndarray
    p_top: np.ndarray


@torch.no_grad()
def model_scores(
    model: CharLSTM,
    s: ScoringSet,
    device: torch.device,
    bf16: bool,
    rows: int = 16,
    chunk: int = 512,
) -> ModelScores:
    """Runs the model over the set, cut into `rows` parallel streams."""
    was_training = model.training
    model.eval()
    n = len(s)
    rows = max(1, min(rows, n // 64 or 1))
    per = math.ceil(n / rows)
    pad = per * rows - n

    def grid(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.pad(a, (0, pad))).view(rows, per)

    inputs, targets, matched = grid(s.inputs), grid(s.targets), grid(np.maximum(s.match_ids, 0))
    p_true, p_match, p_top = (torch.empty(rows, per) for _ in range(3))
    top = torch.empty(rows, per, dtype=torch.long)
    state = None
    for a in range(0, per, chunk):
        cols = slice(a, a + chunk)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            logits, state = model(inputs[:, cols].to(device), state)
        probs = torch.softmax(logits.float(), dim=-1).cpu()
        p_true[:, cols] = probs.gather(2, targets[:, cols, None]).squeeze(2)
        p_match[:, cols] = probs.gather(2, matched[:, cols, None]).squeeze(2)
        p_top[:, cols], top[:, cols] = probs.max(-1)
    model.train(was_training)
    return ModelScores(*(t.reshape(-1)[:n].numpy() for t in (p_true, p_match, top, p_top)))


def fit_mixer(s: ScoringSet, scores: ModelScores) -> match.Mixer:
    hit = s.match_ids == s.targets
    return _fit_weights(scores.p_true, scores.p_match, scores.p_top, hit, s.buckets)


def summarize(s: ScoringSet, scores: ModelScores, mixer: match.Mixer) -> dict[str, float]:
    hit = s.match_ids == s.targets
    has = s.match_ids >= 0
    w = mixer.weights(s.buckets, scores.p_match, scores.p_top) * has
    mixed = w * hit + (1 - w) * scores.p_true.astype(np.float64)
    # The mixture's favourite: the match's character, unless the model's own favourite beats it.
    take_match = has & (w + (1 - w) * scores.p_match >= (1 - w) * scores.p_top)
    guess = np.where(take_match, s.match_ids, scores.top)
    return {
        "bpc": float(-np.log2(np.maximum(mixed, 1e-12)).mean()),
        "bpc_lstm": float(-np.log2(np.maximum(scores.p_true, 1e-12)).mean()),
        "next_char_accuracy": float((guess == s.targets).mean()),
        "next_char_accuracy_lstm": float((scores.top == s.targets).mean()),
        "chars": len(s),
    }


def lstm_bpc(model: CharLSTM, vocab: Vocab, text: str, device: torch.device, bf16: bool) -> float:
    """Bits per character of the LSTM alone on `text`: what a change of weights alone moves."""
    ids = vocab.encode_codes(match.codes_of(text)).astype(np.int64)
    nothing = np.full(len(ids) - 1, -1, dtype=np.int64)
    s = ScoringSet(ids[:-1], ids[1:], nothing, np.zeros_like(nothing))
    scores = model_scores(model, s, device, bf16)
    return float(-np.log2(np.maximum(scores.p_true, 1e-12)).mean())


def _fit_weights(
    p_true: np.ndarray,
    p_match: np.ndarray,
    p_top: np.ndarray,
    hit: np.ndarray,
    buckets: np.ndarray,
) -> match.Mixer:
    """Maximum likelihood of the mixture on the given positions (a few L-BFGS steps). Here, not in
    match.py: the language server imports that, and never torch."""
    b = torch.from_numpy(buckets.astype(np.int64))
    x_match = torch.from_numpy(np.log(np.maximum(p_match, 1e-9))).double()
    x_top = torch.from_numpy(np.log(np.maximum(p_top, 1e-9))).double()
    target_p = torch.from_numpy(p_true.astype(np.float64))
    hits = torch.from_numpy(hit.astype(np.float64))
    params = torch.zeros(3, match.N_BUCKETS, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([params], max_iter=100, line_search_fn="strong_wolfe")
    has = b > 0

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        z = params[0][b] + params[1][b] * x_match + params[2][b] * x_top
        w = torch.sigmoid(z) * has
        nll = -torch.log(w * hits + (1 - w) * target_p + 1e-12).mean()
        nll = nll + 1e-4 * (params**2).sum()  # keeps buckets with few samples near neutral
        nll.backward()
        return nll

    optimizer.step(loss)
    bias, on_match, on_top = (tuple(float(v) for v in row) for row in params.detach())
    return match.Mixer(bias, on_match, on_top)
