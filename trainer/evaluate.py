"""How good a model is on held-out files: bits per character, next-character accuracy, and what
its suggestions would save a user, beside a copy baseline scored at the same positions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import scoring
from .checkpoint import Checkpoint
from .corpus import SourceFile, collect, join
from .match import MatchIndex
from .sampling import Predictor, Stop, Strategy
from .stepper import State

LONGEST_COPY = 256  # the copy baseline looks for suffixes up to this long


@dataclass(frozen=True)
class Position:
    file: SourceFile
    offset: int  # the cursor: text before it is context, the rest of its line is the answer

    @property
    def before(self) -> str:
        return self.file.text[: self.offset]

    @property
    def rest_of_line(self) -> str:
        text = self.file.text
        end = text.find("\n", self.offset)
        return text[self.offset : end if end >= 0 else len(text)]

    @property
    def below(self) -> str:
        """The file after the cursor's line: what an editor holds below the cursor."""
        end = self.file.text.find("\n", self.offset)
        return self.file.text[end + 1 :] if end >= 0 else ""


def positions(files: list[SourceFile], n: int, seed: int) -> list[Position]:
    """n cursor positions inside lines (after the indentation, before the last character),
    lines drawn uniformly from the files, seeded."""
    lines = []
    for f in files:
        start = 0
        for line in f.text.split("\n"):
            body = len(line) - len(line.lstrip())
            if len(line.strip()) >= 2:
                lines.append((f, start + body, start + len(line.rstrip())))
            start += len(line) + 1
    rng = random.Random(seed)
    chosen = rng.sample(lines, min(n, len(lines)))
    return [Position(f, rng.randrange(a + 1, b)) for f, a, b in chosen]


def copy_baseline(before: str, corpus: str, below: str = "") -> str:
    """Find the longest suffix of `before` that occurs earlier in it or in the corpus, and copy
    what followed it to the end of the line. Given `below` (the text after the cursor's line,
    as an editor has it), a longer match there is copied instead, its nearest occurrence."""

    def above(suffix: str) -> tuple[str, int] | None:
        j = before.rfind(suffix, 0, len(before) - 1)
        if j >= 0:
            return before, j + len(suffix)
        j = corpus.rfind(suffix)
        return (corpus, j + len(suffix)) if j >= 0 else None

    def nearest_below(suffix: str) -> tuple[str, int] | None:
        j = below.find(suffix, 0, len(below) - 1)
        return (below, j + len(suffix)) if j >= 0 else None

    length, where = _longest_suffix(before, above)
    if below:
        length_below, where_below = _longest_suffix(before, nearest_below)
        if length_below > length:
            where = where_below
    if where is None:
        return ""
    source, start = where
    end = source.find("\n", start)
    return source[start : end if end >= 0 else len(source)]


def _longest_suffix(
    before: str, find: Callable[[str], tuple[str, int] | None]
) -> tuple[int, tuple[str, int] | None]:
    """The longest suffix of `before` (up to LONGEST_COPY) that `find` finds, and where what
    followed it starts. Occurrence is monotone in length: a binary search."""
    lo, hi, where = 0, min(len(before), LONGEST_COPY), None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        found = find(before[-mid:])
        if found:
            lo, where = mid, found
        else:
            hi = mid - 1
    return lo, where


def leading_identifier(text: str) -> str:
    for i, ch in enumerate(text):
        if not (ch.isalnum() or ch == "_"):
            return text[:i]
    return text


def completion_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """(suggestion, truth) pairs -> exact rest-of-line, exact rest-of-identifier (over positions
    inside or before an identifier), and the mean share of the line's rest got right from its
    start."""
    line = ident = prefix = 0.0
    ident_n = 0
    for guess, truth in pairs:
        guess, truth = guess.rstrip(), truth.rstrip()
        line += guess == truth
        common = 0
        for a, b in zip(guess, truth, strict=False):
            if a != b:
                break
            common += 1
        prefix += common / max(1, len(truth))
        want = leading_identifier(truth)
        if want:
            ident_n += 1
            ident += leading_identifier(guess) == want
    n = max(1, len(pairs))
    return {
        "line_exact_match": line / n,
        "identifier_exact_match": ident / max(1, ident_n),
        "line_prefix_match": prefix / n,
        "positions": len(pairs),
        "identifier_positions": ident_n,
    }


def states_at(
    predictor: Predictor, targets: list[Position]
) -> Iterator[tuple[int, np.ndarray, State]]:
    """Each position's index, with the model's logits and state there: each file is read once
    from the top, its positions in order."""
    by_file: dict[str, list[int]] = {}
    for i, p in enumerate(targets):
        by_file.setdefault(p.file.key, []).append(i)
    for indices in by_file.values():
        indices.sort(key=lambda i: targets[i].offset)
        text = targets[indices[0]].file.text
        logits, state = predictor.start()
        read = 0
        for i in indices:
            offset = targets[i].offset
            logits, state = predictor.feed(text[read:offset], logits, state)
            read = offset
            yield i, logits, state


def suggest_at(
    predictor: Predictor, targets: list[Position], max_chars: int = 200, beam: int = 1
) -> list[str]:
    """The model's single best continuation to the end of the line at each position (where the
    model writes it itself: greedy, or the best of a beam search of that width)."""
    out: dict[int, str] = {}
    strategy = Strategy("greedy") if beam <= 1 else Strategy("beam", width=beam)
    for i, logits, state in states_at(predictor, targets):
        best = predictor.continuations(
            targets[i].before, logits, state, 1, Stop(max_chars=max_chars), strategy
        )
        out[i] = best[0].text if best else ""
    return [out[i] for i in range(len(targets))]


@torch.no_grad()
def evaluate(
    ckpt: Checkpoint,
    paths: list[Path],
    n_positions: int = 500,
    seed: int = 0,
    exclude: list[str] | None = None,
    device: torch.device | str = "cpu",
    beam: int = 1,
) -> dict[str, Any]:
    """Every figure, on the held-out files of `paths` split as the model's training split them."""
    device = torch.device(device)
    corpus = collect(paths, exclude=exclude or [])
    train_files, held_files = corpus.split(ckpt.manifest.held_out_fraction, ckpt.manifest.seed)
    if not held_files:
        held_files = train_files
    train_text = join(train_files)
    _, held_set = scoring.scoring_sets(ckpt.vocab, train_text, join(held_files), fit_chars=0)
    model = ckpt.model.to(device)
    figures: dict[str, Any] = scoring.summarize(
        held_set, scoring.model_scores(model, held_set, device, bf16=False), ckpt.mixer
    )
    targets = positions(held_files, n_positions, seed)
    predictor = Predictor(ckpt.for_inference(), MatchIndex(train_text))
    ours = suggest_at(predictor, targets, beam=beam)
    baseline = [copy_baseline(p.before, train_text) for p in targets]
    truths = [p.rest_of_line for p in targets]
    figures.update(completion_scores(list(zip(ours, truths, strict=True))))
    figures["copy_baseline"] = completion_scores(list(zip(baseline, truths, strict=True)))
    figures["held_out_files"] = len(held_files)
    figures["examples"] = [
        {
            "file": p.file.key,
            "line": p.before.count("\n") + 1,
            "before": p.before.rsplit("\n", 1)[-1],
            "model": o,
            "copy": b,
            "actual": t,
        }
        for p, o, b, t in list(zip(targets, ours, baseline, truths, strict=True))[:12]
    ]
    return figures
