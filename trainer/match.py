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

ORDERS = (96, 48, 24, 12, 6, 4)  # context lengths looked up, longest first
MAX_LENGTH = 256  # a match is measured back this far
CHAIN_ORDER, SHORT_ORDER = 16, 4  # context lengths the index looks up
CANDIDATES = 48  # earlier occurrences compared per lookup, at most
_EDGES = (4, 8, 12, 16, 24, 32, 48, 64)  # length buckets: 0 = no match, then [4, 8), [8, 12), ...
N_BUCKETS = len(_EDGES) + 1
DOCUMENT_WINDOW = 20_000  # how far back the document is searched: bounds a lookup's cost
_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def bucket(length: int) -> int:
    return bisect.bisect_right(_EDGES, length)


def codes_of(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4").astype(
        np.int64
    )


def _hash_grams(codes: np.ndarray, k: int) -> np.ndarray:
    """h[i] = hash of codes[i-k:i] for i in [k, n]; the same arithmetic as `_hash`."""
    n = len(codes)
    h = np.zeros(n - k + 1, dtype=np.uint32)
    c32 = codes.astype(np.uint32, copy=False)
    for j in range(k):
        h = h * np.uint32(_PRIME) + c32[j : n - k + 1 + j]
    return h


def _hash(text: str) -> int:
    h = 0
    for ch in text:
        h = (h * _PRIME + ord(ch)) & _MASK
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

    @classmethod
    def fit(
        cls,
        p_true: np.ndarray,
        p_match: np.ndarray,
        p_top: np.ndarray,
        hit: np.ndarray,
        buckets: np.ndarray,
    ) -> Mixer:
        """Maximum likelihood of the mixture on the given positions (a few L-BFGS steps)."""
        import torch

        b = torch.from_numpy(buckets.astype(np.int64))
        x_match = torch.from_numpy(np.log(np.maximum(p_match, 1e-9))).double()
        x_top = torch.from_numpy(np.log(np.maximum(p_top, 1e-9))).double()
        target_p = torch.from_numpy(p_true.astype(np.float64))
        hits = torch.from_numpy(hit.astype(np.float64))
        params = torch.zeros(3, N_BUCKETS, dtype=torch.float64, requires_grad=True)
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
        return cls(bias, on_match, on_top)


class MatchIndex:
    """Finds, for a context, the earlier occurrence of its suffix that matches longest, in the
    context itself or in an indexed corpus, and what followed it.

    As zlib finds its matches: every position of the corpus is chained to the previous one with
    the same CHAIN_ORDER characters before it, and a lookup walks the chain (and the document's
    own earlier occurrences) keeping the longest match. Shorter contexts fall back to the latest
    occurrence of the last SHORT_ORDER characters."""

    def __init__(
        self,
        corpus_text: str = "",
        table_bits: int | None = None,
        spans: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self.text = corpus_text
        self.spans = spans or {}  # where each file lies in the text, by its corpus key
        codes = np.frombuffer(corpus_text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")
        n = len(codes)
        self.bits = table_bits or int(min(21, max(10, np.ceil(np.log2(max(n, 1) * 2)))))
        shift = np.uint32(32 - self.bits)
        self.head = np.full(1 << self.bits, -1, dtype=np.int32)  # latest position per slot
        self.chain = np.full(max(n + 1, 1), -1, dtype=np.int32)  # the one before, same slot
        self.short = np.full(1 << self.bits, -1, dtype=np.int32)
        if n > CHAIN_ORDER:
            slots = (_hash_grams(codes, CHAIN_ORDER)[:-1] >> shift).astype(np.int32)
            positions = np.arange(CHAIN_ORDER, n, dtype=np.int32)
            order = np.argsort(slots, kind="stable")
            same = slots[order[1:]] == slots[order[:-1]]
            self.chain[positions[order[1:]][same]] = positions[order[:-1]][same]
            np.maximum.at(self.head, slots, positions)
            del slots, order, same
        if n > SHORT_ORDER:
            slots = (_hash_grams(codes, SHORT_ORDER)[:-1] >> shift).astype(np.int32)
            np.maximum.at(self.short, slots, np.arange(SHORT_ORDER, n, dtype=np.int32))

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
        ("doc", index into context) or ("corpus", index into self.text); ("", 0, "", 0) if none.
        Only context[:limit] is read from: past it lies text being generated, and a match into
        one's own output repeats it forever. Corpus text inside `skip` is not matched: it is the
        saved copy of the document being completed, whose next character is the one already
        after the cursor."""
        n = len(context)
        limit = n if limit is None else limit
        best = ("", 0, "", 0)
        for k, slot_table in ((CHAIN_ORDER, self.head), (SHORT_ORDER, self.short)):
            if n < k:
                continue
            suffix = context[-k:]
            end, lo = min(n, limit) - 1, max(0, n - DOCUMENT_WINDOW)
            for _ in range(CANDIDATES):
                j = context.rfind(suffix, lo, end)
                if j < 0:
                    break
                length = _common_tail(context, j + k, context, n)
                if length > best[1]:
                    best = (context[j + k], length, "doc", j + k)
                end = j + k - 1
            p = int(slot_table[_hash(suffix) >> (32 - self.bits)])
            for _ in range(CANDIDATES if k == CHAIN_ORDER else 1):
                if p < k:
                    break
                inside = skip is not None and skip[0] <= p < skip[1]
                if not inside and p < len(self.text) and self.text[p - k : p] == suffix:
                    length = _common_tail(self.text, p, context, n)
                    if length > best[1]:
                        best = (self.text[p], length, "corpus", p)
                p = int(self.chain[p]) if k == CHAIN_ORDER else -1
            if best[1]:
                return best
        return best


def _common_tail(a: str, a_end: int, b: str, b_end: int) -> int:
    """How many characters before a_end in a equal those before b_end in b (at most
    MAX_LENGTH), by binary search on slice equality (compared in C, not char by char)."""
    lo, hi = 0, min(MAX_LENGTH, a_end, b_end)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[a_end - mid : a_end] == b[b_end - mid : b_end]:
            lo = mid
        else:
            hi = mid - 1
    return lo
