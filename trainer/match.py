"""A match model: what followed the last occurrence of the current context, in the document or
the corpus.

Code repeats itself, and a small LSTM recalls long repeats poorly; as in paq and cmix, the LSTM's
next-character distribution is mixed with this prediction, weighted by how long the match is.
"""

from __future__ import annotations

import numpy as np

ORDERS = (32, 16, 8, 4)  # context lengths looked up, longest first
MAX_LENGTH = 64  # a match is measured back this far
_EDGES = (4, 8, 12, 16, 24, 32, 48, 64)  # length buckets: 0 = no match, then [4, 8), [8, 12), ...
N_BUCKETS = len(_EDGES) + 1
DOCUMENT_WINDOW = 100_000  # how far back the document is searched: keeps a request's cost flat
_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def bucket(length: int) -> int:
    return int(np.searchsorted(_EDGES, length, side="right"))


def codes_of(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4").astype(
        np.int64
    )


def _hash_grams(codes: np.ndarray, k: int) -> np.ndarray:
    """h[i] = hash of codes[i-k:i] for i in [k, n]; the same arithmetic as `_hash`."""
    n = len(codes)
    h = np.zeros(n - k + 1, dtype=np.uint32)
    c32 = codes.astype(np.uint32)
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
        for t in range(1, MAX_LENGTH + 1):
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


def fit_weights(p_model: np.ndarray, hit: np.ndarray, buckets: np.ndarray) -> list[float]:
    """Per length bucket, the weight w maximising the likelihood of w*[hit] + (1-w)*p_model (EM)."""
    weights = [0.0] * N_BUCKETS
    for b in range(1, N_BUCKETS):
        sel = buckets == b
        if sel.sum() < 20:
            weights[b] = 0.0
            continue
        p, h = p_model[sel], hit[sel].astype(np.float64)
        w = 0.5
        for _ in range(50):
            r = w * h / (w * h + (1 - w) * p + 1e-12)
            w = float(r.mean())
        weights[b] = min(w, 0.999)
    return weights


def mixed_probability(
    p_model: np.ndarray, hit: np.ndarray, buckets: np.ndarray, weights
) -> np.ndarray:
    w = np.asarray(weights)[buckets]
    return w * hit + (1 - w) * p_model


class MatchIndex:
    """Finds, for a context, the latest earlier occurrence of its longest suffix (of ORDERS) in
    the context itself or an indexed corpus, and what followed it."""

    def __init__(self, corpus_text: str = "", table_bits: int | None = None) -> None:
        self.text = corpus_text
        codes = codes_of(corpus_text)
        n = len(codes)
        self.bits = table_bits or int(min(22, max(10, np.ceil(np.log2(max(n, 1) * 2)))))
        self.tables: dict[int, np.ndarray] = {}
        for k in ORDERS:
            table = np.zeros(1 << self.bits, dtype=np.int64)
            if n > k:
                slots = (_hash_grams(codes, k)[:-1] >> np.uint32(32 - self.bits)).astype(np.int64)
                # last occurrence wins: write in order of position, stably grouped by slot
                order = np.argsort(slots, kind="stable")
                last = np.append(slots[order[1:]] != slots[order[:-1]], True)
                table[slots[order[last]]] = order[last] + k
            self.tables[k] = table

    def locate(self, context: str, limit: int | None = None) -> tuple[str, int, str, int]:
        """The predicted next character, the match length, and where the prediction was read:
        ("doc", index into context) or ("corpus", index into self.text); ("", 0, "", 0) if none.
        Only context[:limit] is read from: past it lies text being generated, and a match into
        one's own output repeats it forever."""
        n = len(context)
        limit = n if limit is None else limit
        for k in ORDERS:
            if n < k:
                continue
            suffix = context[-k:]
            found = ("", 0, "", 0)
            j = context.rfind(suffix, max(0, n - DOCUMENT_WINDOW), min(n, limit) - 1)
            if j >= 0:
                found = (context[j + k], _common_tail(context, j + k, context, n), "doc", j + k)
            p = int(self.tables[k][_hash(suffix) >> (32 - self.bits)])
            if k <= p < len(self.text) and self.text[p - k : p] == suffix:
                length = _common_tail(self.text, p, context, n)
                if length > found[1]:
                    found = (self.text[p], length, "corpus", p)
            if found[1]:
                return found
        return "", 0, "", 0


def _common_tail(a: str, a_end: int, b: str, b_end: int) -> int:
    """How many characters before a_end in a equal those before b_end in b (at most MAX_LENGTH)."""
    span = min(MAX_LENGTH, a_end, b_end)
    x, y = a[a_end - span : a_end][::-1], b[b_end - span : b_end][::-1]
    for i in range(span):
        if x[i] != y[i]:
            return i
    return span
