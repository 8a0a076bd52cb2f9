"""A match model: what followed the last occurrence of the current context, in the document or
the corpus.

Code repeats itself, and a small LSTM recalls long repeats poorly; as in paq and cmix, the LSTM's
next-character distribution is mixed with this prediction, weighted by how long the match is.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from . import suffix
from .suffix import MAX_LENGTH

ORDERS = (96, 48, 24, 12, 6, 4)  # context lengths looked up in a stream, longest first
MIN_LENGTH = 4  # shorter matches predict nothing (the mixer's first length bucket starts here)
_EDGES = (4, 8, 12, 16, 24, 32, 48, 64)  # length buckets: 0 = no match, then [4, 8), [8, 12), ...
N_BUCKETS = len(_EDGES) + 1
DOCUMENT_WINDOW = 20_000  # how far back the document is searched: bounds a lookup's cost
_PRIME = 0x01000193


def bucket(length: int) -> int:
    return bisect.bisect_right(_EDGES, length)


def codes_of(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4").astype(
        np.int64
    )


def _hash_grams(codes: np.ndarray, k: int) -> np.ndarray:
    """h[i] = hash of codes[i-k:i] for i in [k, n]."""
    n = len(codes)
    h = np.zeros(n - k + 1, dtype=np.uint32)
    c32 = codes.astype(np.uint32, copy=False)
    for j in range(k):
        h = h * np.uint32(_PRIME) + c32[j : n - k + 1 + j]
    return h


def _previous_same(keys: np.ndarray) -> np.ndarray:
    """For each index, the latest earlier index with the same key, or -1."""
    order = np.argsort(keys, kind="stable")
    prev = np.full(len(keys), -1, dtype=np.int64)
    same = keys[order[1:]] == keys[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    return prev


def stream_predictions(codes: np.ndarray, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """For every position i >= start: the code the match model predicts for codes[i] from
    codes[:i] (-1 for none), and the match length."""
    n = len(codes)
    pred = np.full(n, -1, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    decided = np.zeros(n, dtype=bool)
    for k in ORDERS:
        if n <= k:
            continue
        h = _hash_grams(codes, k)[:-1]  # h[t] is the gram ending just before position t + k
        prev = _previous_same(h)
        pos = np.arange(k, n)
        cand = np.where(prev >= 0, prev + k, -1)
        sel = (pos >= start) & (cand >= 0) & ~decided[pos]
        pos, cand = pos[sel], cand[sel]
        run = np.zeros(len(pos), dtype=np.int64)
        alive = np.ones(len(pos), dtype=bool)
        for t in range(1, _EDGES[-1] + 1):  # longer is the same last bucket
            ok = alive & (cand - t >= 0)
            ok[ok] = codes[pos[ok] - t] == codes[cand[ok] - t]
            run += ok
            alive = ok
        verified = run >= k
        pos, cand, run = pos[verified], cand[verified], run[verified]
        pred[pos] = codes[cand]
        length[pos] = run
        decided[pos] = True
    return pred, length


@dataclass(frozen=True)
class Mixer:
    """How far to trust the match model at a position: w = sigmoid(bias + a * log p(match) +
    b * log p(favourite)), per length bucket, where the p are the LSTM's probabilities of the
    match's character and of its own favourite. So a long match wins, and the LSTM overrules a
    short one it finds unlikely. The mixture is w * [the match's char] + (1 - w) * LSTM."""

    bias: tuple[float, ...] = (-30.0,) * N_BUCKETS
    on_match: tuple[float, ...] = (0.0,) * N_BUCKETS
    on_top: tuple[float, ...] = (0.0,) * N_BUCKETS

    def weights(self, buckets: np.ndarray, p_match: np.ndarray, p_top: np.ndarray) -> np.ndarray:
        z = (
            np.asarray(self.bias)[buckets]
            + np.asarray(self.on_match)[buckets] * np.log(np.maximum(p_match, 1e-9))
            + np.asarray(self.on_top)[buckets] * np.log(np.maximum(p_top, 1e-9))
        )
        return np.where(buckets > 0, 1 / (1 + np.exp(-z)), 0.0)

    def weight(self, bucket_index: int, p_match: float, p_top: float) -> float:
        if bucket_index == 0:
            return 0.0
        z = (
            self.bias[bucket_index]
            + self.on_match[bucket_index] * math.log(max(p_match, 1e-9))
            + self.on_top[bucket_index] * math.log(max(p_top, 1e-9))
        )
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict[str, list[float]]:
        return {
            "bias": list(self.bias),
            "on_match": list(self.on_match),
            "on_top": list(self.on_top),
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[float]] | None) -> Mixer:
        if not data:
            return cls()
        return cls(tuple(data["bias"]), tuple(data["on_match"]), tuple(data["on_top"]))


class MatchIndex:
    """Finds, for a context, the longest earlier occurrence of its suffix (up to MAX_LENGTH
    characters), in the context itself or in an indexed corpus, and what followed it.

    The corpus is searched through a suffix array of it read backwards, the context directly
    (see `suffix`); both are exact, so the match model predicts
    what the copy baseline would copy. Equally long, the context's own occurrence wins: it is
    the nearer one."""

    def __init__(
        self,
        corpus_text: str = "",
        spans: dict[str, tuple[int, int]] | None = None,
        corpus: suffix.ReversedCorpus | None = None,
    ) -> None:
        """An index of `corpus_text`, or of a `corpus` already built (read back from disk)."""
        self.corpus = corpus if corpus is not None else suffix.ReversedCorpus.of_text(corpus_text)
        self.size = self.corpus.size
        self.spans = spans or {}  # where each file lies in the text, by its corpus key

    @classmethod
    def of_files(cls, files: list[tuple[str, str]]) -> MatchIndex:
        """An index of (key, text) files, joined as training joins them."""
        spans, start = {}, 0
        for key, text in files:
            spans[key] = (start, start + len(text))
            start += len(text) + 1
        return cls("\0".join(text for _, text in files), spans=spans)

    def locate(
        self, context: str, limit: int | None = None, skip: tuple[int, int] | None = None
    ) -> tuple[str, int, str, int]:
        """The predicted next character, the match length, and where the prediction was read:
        ("doc", index into context) or ("corpus", index into the corpus text); ("", 0, "", 0)
        if no suffix of at least MIN_LENGTH characters occurs. Only context[:limit] is read
        from: past it lies text being generated, and a match into one's own output repeats it
        forever. Corpus text inside `skip` is not matched: it is the saved copy of the document
        being completed, whose next character is the one already after the cursor."""
        limit = len(context) if limit is None else limit
        tail = context[-MAX_LENGTH:]
        window = max(0, len(context) - DOCUMENT_WINDOW)
        length, end = suffix.longest_in(context, tail, limit, window)
        corpus_length, corpus_end = self.corpus.longest(tail, skip)
        if corpus_length > length and corpus_length >= MIN_LENGTH:
            return self.corpus.char(corpus_end), corpus_length, "corpus", corpus_end
        if length >= MIN_LENGTH:
            return context[end], length, "doc", end
        return "", 0, "", 0

    def occurrences(
        self,
        context: str,
        length: int,
        skip: tuple[int, int] | None = None,
        cap: int = 64,
    ) -> list[tuple[str, int]]:
        """Where earlier occurrences of the context's last `length` characters end, as locate
        gives them: in the context (its last DOCUMENT_WINDOW characters), then in the corpus,
        each latest first, at most `cap` of each."""
        tail = context[-MAX_LENGTH:]
        window = max(0, len(context) - DOCUMENT_WINDOW)
        found = [
            ("doc", e)
            for e in suffix.occurrences_in(context, tail, length, len(context), window, cap)
        ]
        return found + [("corpus", e) for e in self.corpus.occurrences(tail, length, skip, cap)]

    def char(self, source: str, pos: int, context: str) -> str:
        """The character at a position locate returned ("" past its end)."""
        if source == "doc":
            return context[pos] if pos < len(context) else ""
        return self.corpus.char(pos) if source == "corpus" and pos < self.size else ""

    def line_from(self, source: str, pos: int, context: str, max_chars: int) -> tuple[str, str]:
        """What follows a position locate returned, to the end of its line (at most max_chars),
        and the character after that ("" at the end of what can be read)."""
        if source == "doc":
            text = context[pos : pos + max_chars + 1]
        else:
            text = self.corpus.read(pos, pos + max_chars + 1)
        for i, ch in enumerate(text):
            if ch in "\n\0":
                return text[:i], ch
        return text[:max_chars], ""
