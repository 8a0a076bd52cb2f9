"""Which whole line to suggest, among the lines that followed earlier occurrences of the text
before the cursor.

The copy baseline takes what followed the latest occurrence of the longest match. But a context
often occurred many times, followed by different lines; which of them comes next is better told
by how often each followed, whether the document itself had it, how long a context it followed,
and how likely the LSTM finds it here. Those are weighed by a linear score, fitted to pick the
line that saves the user most (see benchmarks/line_choice.py, which fits and checks WEIGHTS).
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

import numpy as np

from .match import MIN_LENGTH, MatchIndex

CAP = 64  # occurrences read per match length and source (document, corpus)
MOST = 8  # distinct lines weighed at most, the first found first (24 chose no better)
# Characters of a line the LSTM reads: lines mostly differ early. Measured with
# benchmarks.line_choice: 16 chose as well as 32 (34.0% and 34.3% exact lines at seeds 0 and 3,
# both), in half the time.
SCORED = 16


@dataclass
class Candidate:
    text: str
    count: int = 0  # occurrences of the longest match that it followed
    longest: int = 0  # the longest match it followed
    document: bool = False  # it followed an occurrence in the document itself


@dataclass(frozen=True)
class Weights:
    per_char: float  # the LSTM's log probability of the line's start (its end too, if scored)
    count: float  # log(1 + count)
    document: float
    length: float  # log(1 + characters)
    longest: float  # longest / the longest match there is


# Fitted by `python -m benchmarks.line_choice --fit-seeds 1 2` on the shipped base model.
WEIGHTS = Weights(per_char=0.45, count=0.936, document=1.271, length=-0.287, longest=0.575)


def gather(
    index: MatchIndex, context: str, skip: tuple[int, int] | None, max_chars: int
) -> tuple[int, list[Candidate]]:
    """The length of the longest match, and the distinct lines that followed occurrences of the
    context's suffixes that long, 8 shorter and half as long, latest first."""
    _, longest, _, _ = index.locate(context, len(context), skip)
    if longest < MIN_LENGTH:
        return 0, []
    found: dict[str, Candidate] = {}
    for length in sorted(
        {longest, max(MIN_LENGTH, longest - 8), max(MIN_LENGTH, longest // 2)}, reverse=True
    ):
        for source, end in index.occurrences(context, length, skip, CAP):
            text, _ = index.line_from(source, end, context, max_chars)
            c = found.get(text)
            if c is None:
                if len(found) >= MOST:
                    continue
                c = found[text] = Candidate(text)
            c.count += length == longest
            c.longest = max(c.longest, length)
            c.document |= source == "doc"
    return longest, list(found.values())


def scored_part(text: str) -> tuple[str, bool]:
    """What of a line the LSTM reads: its first SCORED characters, and whether its end is
    among them."""
    return text[:SCORED], len(text) < SCORED


def features(candidates: list[Candidate], longest: int, logprobs: np.ndarray) -> np.ndarray:
    """One row per candidate, in the order of Weights' fields."""
    read = [scored_part(c.text) for c in candidates]
    return np.array(
        [
            [
                lp / (len(start) + ends),
                math.log1p(c.count),
                float(c.document),
                math.log1p(len(c.text)),
                c.longest / max(1, longest),
            ]
            for c, (start, ends), lp in zip(candidates, read, logprobs.tolist(), strict=True)
        ],
        dtype=np.float64,
    ).reshape(len(candidates), 5)


def ranking(
    candidates: list[Candidate], longest: int, logprobs: np.ndarray, weights: Weights = WEIGHTS
) -> list[tuple[int, float]]:
    """The candidates' indices, best first, each with the natural log of the chance the weights
    give it of being the one to suggest (a softmax of the scores: the weights were fitted as
    one)."""
    scores = features(candidates, longest, logprobs) @ np.array(astuple(weights))
    logp = scores - scores.max() - np.log(np.exp(scores - scores.max()).sum())
    order = np.argsort(-scores, kind="stable")
    return [(int(i), float(logp[i])) for i in order]
