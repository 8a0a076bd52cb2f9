"""Exact longest matches in a corpus: a suffix array of the corpus read backwards.

The match model wants, for the text before the cursor, the longest suffix of it that occurs in
the corpus. Read backwards, that suffix is a prefix of the reversed context, and the reversed
corpus's suffixes that share the longest prefix with it sit next to where it would be inserted
in their sorted order: a binary search finds them. Characters are stored one byte each (the
vocabulary's characters get their own codes, any other shares one), the array as int32: five
bytes per corpus character in all.
"""

from __future__ import annotations

import bisect

import numpy as np

from .vocab import CHARACTERS

MAX_LENGTH = 256  # matches are measured, and the suffixes sorted, this far back
SAMPLED = 2_000  # occurrences of one context read at most: a short one can occur 100,000 times
OTHER = 255  # the code of every character outside the table: they compare equal to each other
_ALPHABET = "\0" + CHARACTERS  # \0 stands between files; codes start at 1, so 0 pads
if len(_ALPHABET) >= OTHER:
    raise ImportError("the match model's alphabet outgrew one byte")
_ENCODE = {ord(ch): i + 1 for i, ch in enumerate(_ALPHABET)}
_DECODE = np.array([0] + [ord(ch) for ch in _ALPHABET] + [0] * (OTHER - len(_ALPHABET)), np.int64)


def encode(text: str) -> bytes:
    """One byte per character: its code, or OTHER."""
    return bytes(_ENCODE.get(ord(ch), OTHER) for ch in text)


def encode_array(text: str) -> np.ndarray:
    """`encode` for a whole corpus, vectorised."""
    table = np.full(0x110000, OTHER, dtype=np.uint8)
    for code, ch in enumerate(_ALPHABET, start=1):
        table[ord(ch)] = code
    points = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")
    return table[points]


def build(codes: np.ndarray) -> np.ndarray:
    """The start of every suffix of `codes` (uint8, no zeros), sorted by their first MAX_LENGTH
    characters, by prefix doubling: sort by 8 characters packed in one key, then by pairs of
    ranks 8, 16, ... characters apart."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    padded = np.zeros(n + 8, dtype=np.uint64)
    padded[:n] = codes
    key = np.zeros(n, dtype=np.uint64)
    for j in range(8):
        key = (key << np.uint64(8)) | padded[j : n + j]
    del padded
    order = np.argsort(key).astype(np.int32)
    rank = _ranks(key, order)
    del key
    span = 8
    while span < MAX_LENGTH and int(rank.max()) < n:
        later = np.zeros(n, dtype=np.uint64)  # past the end ranks 0: shorter sorts first
        later[: n - span] = rank[span:]
        key = (rank.astype(np.uint64) << np.uint64(32)) | later
        del later
        order = np.argsort(key).astype(np.int32)
        rank = _ranks(key, order)
        del key
        span *= 2
    return order


def _ranks(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """rank[i]: 1 + how many distinct keys are smaller than key[i]."""
    ordered = key[order]
    step = np.empty(len(key), dtype=np.int32)
    step[0] = 1
    np.not_equal(ordered[1:], ordered[:-1], out=step[1:])
    del ordered
    rank = np.empty(len(key), dtype=np.int32)
    rank[order] = np.cumsum(step, dtype=np.int32)
    return rank


class ReversedCorpus:
    """A corpus's codes read backwards and their suffix array: finds the longest earlier
    occurrence of a context's suffix, exactly, in O(log n) comparisons."""

    def __init__(self, text: str, suffixes: np.ndarray | None = None) -> None:
        codes = encode_array(text)
        # Characters outside the table, by position, so that reading gives them back.
        self.other_at = np.flatnonzero(codes == OTHER).tolist()
        self.other_chars = [text[i] for i in self.other_at]
        codes = codes[::-1].copy()
        self.reversed = codes.tobytes()
        self.size = len(codes)
        self.suffixes = build(codes) if suffixes is None else suffixes

    def char(self, i: int) -> str:
        """The corpus text[i]."""
        code = self.reversed[self.size - 1 - i]
        if code == OTHER:
            return self.other_chars[bisect.bisect_left(self.other_at, i)]
        return chr(_DECODE[code])

    def read(self, start: int, end: int) -> str:
        """The corpus text[start:end]."""
        start, end = max(0, start), min(self.size, end)
        if start >= end:
            return ""
        piece = self.reversed[self.size - end : self.size - start][::-1]
        chars = [chr(c) for c in _DECODE[np.frombuffer(piece, dtype=np.uint8)]]
        first = bisect.bisect_left(self.other_at, start)
        last = bisect.bisect_left(self.other_at, end)
        for i, ch in zip(self.other_at[first:last], self.other_chars[first:last], strict=True):
            chars[i - start] = ch
        return "".join(chars)

    def longest(
        self, tail: str, skip: tuple[int, int] | None = None, candidates: int = 64
    ) -> tuple[int, int]:
        """(length, end): the longest suffix of `tail` (at most MAX_LENGTH characters) that occurs
        in the corpus with a character after it, and where that occurrence ends (the position of
        the character that followed it). Occurrences ending inside `skip` are passed over; among
        equally long ones, the latest wins. (0, 0) if none."""
        query = encode(tail[-MAX_LENGTH:][::-1])
        if not query or not self.size:
            return 0, 0
        rev, sa = self.reversed, self.suffixes
        lo = self._bound(query, inclusive=False)
        best = (0, 0)
        for first, step in ((lo - 1, -1), (lo, 1)):
            r = first
            for _ in range(candidates):
                if not 0 <= r < len(sa):
                    break
                start = int(sa[r])
                length = _common_prefix(rev, start, query)
                if length < best[0] or length == 0:
                    break  # further along the sorted order they only share less
                end = self.size - start  # the text position just after the occurrence
                usable = end < self.size and not (skip and skip[0] <= end < skip[1])
                if usable and (length, end) > best:
                    best = (length, end)
                r += step
        return best

    def occurrences(
        self, tail: str, length: int, skip: tuple[int, int] | None = None, cap: int = 64
    ) -> list[int]:
        """Where occurrences of tail's last `length` characters end (each the position of the
        character after it), latest first, at most `cap` of them: all of them when there are
        few, else an even sample of up to SAMPLED. Occurrences ending inside `skip` or at the
        very end are passed over."""
        query = encode(tail[-length:][::-1]) if length > 0 else b""
        if not query or not self.size:
            return []
        first, last = self._bound(query, inclusive=False), self._bound(query, inclusive=True)
        rows = np.arange(first, last)
        if len(rows) > SAMPLED:
            rows = rows[np.linspace(0, len(rows) - 1, SAMPLED).astype(np.int64)]
        ends = self.size - self.suffixes[rows].astype(np.int64)
        usable = ends < self.size
        if skip:
            usable &= (ends < skip[0]) | (ends >= skip[1])
        return np.sort(ends[usable])[::-1][:cap].tolist()

    def _bound(self, query: bytes, inclusive: bool) -> int:
        """The first row whose suffix, cut to the query's length, is greater than the query
        (inclusive) or not smaller than it."""
        rev, sa, n = self.reversed, self.suffixes, len(query)
        lo, hi = 0, len(sa)
        while lo < hi:
            mid = (lo + hi) // 2
            start = int(sa[mid])
            key = rev[start : start + n]
            if key < query or (inclusive and key == query):
                lo = mid + 1
            else:
                hi = mid
        return lo


def _common_prefix(rev: bytes, start: int, query: bytes) -> int:
    """How many leading bytes of rev[start:] equal those of query (binary search on slice
    equality, compared in C)."""
    lo, hi = 0, min(len(query), len(rev) - start)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if rev[start : start + mid] == query[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def longest_in(text: str, tail: str, end: int, start: int = 0) -> tuple[int, int]:
    """(length, end) as ReversedCorpus.longest, searching text[start:end] directly: for a
    document, which changes with every keystroke. Occurrence is monotone in length, so the
    longest is found by binary search, each probe one `rfind` (in C)."""
    lo, hi, found = 0, min(MAX_LENGTH, len(tail), end - start), 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        j = text.rfind(tail[-mid:], start, end - 1)  # with a character after it, before `end`
        if j >= 0:
            lo, found = mid, j + mid
        else:
            hi = mid - 1
    return lo, found


def occurrences_in(
    text: str, tail: str, length: int, end: int, start: int = 0, cap: int = 64
) -> list[int]:
    """`ReversedCorpus.occurrences` in text[start:end] directly, for a document: where the
    occurrences of tail's last `length` characters end, latest first, each with a character
    after it before `end`."""
    if length <= 0:
        return []
    needle, found, limit = tail[-length:], [], end - 1
    while len(found) < cap and limit - start >= length:  # (a negative limit would wrap)
        j = text.rfind(needle, start, limit)
        if j < 0:
            break
        found.append(j + length)
        limit = j + length - 1
    return found
