"""Which whole line to suggest, among the lines that followed earlier occurrences of the text
before the cursor (above it, in the corpus, and below it in the document).

The copy baseline takes what followed the latest occurrence of the longest match. But a context
often occurred many times, followed by different lines; which of them comes next is better told
by how often each followed, whether the document itself had it, how long a context it followed,
how often and after how long a context it followed below the cursor (in the middle of a file,
code below is as telling as code above), and how likely the LSTM finds it here. Those are
weighed by a linear score, fitted to pick the line that saves the user most (see
benchmarks/line_choice.py, which fits and checks WEIGHTS).
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields

import numpy as np

from . import suffix
from .match import MIN_LENGTH, MatchIndex
from .suffix import MAX_LENGTH

CAP = 64  # occurrences read per match length and source (above, corpus, below)
# Distinct lines weighed at most, the first found first (24 chose no better), and as many again
# from below the cursor.
MOST = 8
# Characters of a line the LSTM reads: lines mostly differ early. Measured with
# benchmarks.line_choice: 16 chose as well as 32 (34.0% and 34.3% exact lines at seeds 0 and 3,
# both), in half the time.
SCORED = 16


@dataclass
class Candidate:
    text: str
    count: int = 0  # occurrences of the longest match that it followed
    longest: int = 0  # the longest match it followed
    document: bool = False  # it followed an occurrence in the document itself, above the cursor
    below: int = 0  # occurrences below the cursor that it followed, at any length
    longest_below: int = 0  # the longest match below the cursor that it followed


@dataclass(frozen=True)
class Weights:
    per_char: float  # the LSTM's log probability of the line's start (its end too, if scored)
    count: float  # log(1 + count)
    document: float
    length: float  # log(1 + characters)
    longest: float  # longest / the longest match there is
    below: float  # log(1 + below)
    longest_below: float  # longest_below / the longest match there is


# Fitted by `python -m benchmarks.line_choice` on the shipped base model.
WEIGHTS = Weights(
    per_char=0.545,
    count=0.879,
    document=1.135,
    length=-0.345,
    longest=0.496,
    below=0.602,
    longest_below=0.933,
)


def gather(
    index: MatchIndex, context: str, skip: tuple[int, int] | None, max_chars: int, below: str = ""
) -> tuple[int, list[Candidate]]:
    """The length of the longest match, and the distinct lines that followed occurrences of the
    context's suffixes that long, 8 shorter and half as long: above the cursor and in the
    corpus, latest first, then `below` it (the document after the cursor's line, where an
    editor has one), nearest first."""
    _, longest, _, _ = index.locate(context, len(context), skip)
    tail = context[-MAX_LENGTH:]
    longest_below = suffix.longest_in(below, tail, len(below))[0] if below else 0
    found: dict[str, Candidate] = {}
    for length in _lengths(longest):
        for source, end in index.occurrences(context, length, skip, CAP):
            c = _candidate(found, index.line_from(source, end, context, max_chars)[0], MOST)
            if c is not None:
                c.count += length == longest
                c.longest = max(c.longest, length)
                c.document |= source == "doc"
    most = len(found) + MOST  # lines below have their own room: they are found last
    for length in _lengths(longest_below):
        for end in suffix.occurrences_ahead(below, tail, length, CAP):
            c = _candidate(found, index.line_from("doc", end, below, max_chars)[0], most)
            if c is not None:
                c.below += 1
                c.longest_below = max(c.longest_below, length)
    return max(longest, longest_below), list(found.values())


def _lengths(longest: int) -> list[int]:
    """The match lengths whose occurrences are read: none, when no match is long enough."""
    if longest < MIN_LENGTH:
        return []
    return sorted(
        {longest, max(MIN_LENGTH, longest - 8), max(MIN_LENGTH, longest // 2)}, reverse=True
    )


def _candidate(found: dict[str, Candidate], text: str, most: int) -> Candidate | None:
    """The line's candidate, new if there is room for it."""
    if text not in found and len(found) < most:
        found[text] = Candidate(text)
    return found.get(text)


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
                math.log1p(c.below),
                c.longest_below / max(1, longest),
            ]
            for c, (start, ends), lp in zip(candidates, read, logprobs.tolist(), strict=True)
        ],
        dtype=np.float64,
    ).reshape(len(candidates), len(fields(Weights)))


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
