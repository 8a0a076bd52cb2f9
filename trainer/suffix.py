"""Exact longest matches in a corpus: a suffix array of the corpus read backwards.

The match model wants, for the text before the cursor, the longest suffix of it that occurs in
the corpus. Read backwards, that suffix is a prefix of the reversed context, and the reversed
corpus's suffixes that share the longest prefix with it sit next to where it would be inserted
in their sorted order: a binary search finds them. Characters are stored one byte each (the
vocabulary's characters get their own codes, any other shares one), the array as int32: five
bytes per corpus character in all.
"""

from __future__ import annotations

import mmap

import numpy as np

from .vocab import CHARACTERS

MAX_LENGTH = 256  # matches are measured, and the suffixes sorted, this far back
SAMPLED = 2_000  # occurrences of one context read at most: a short one can occur 100,000 times
OTHER = 255  # the code of every character outside the table: they compare equal to each other
_ALPHABET = "\0" + CHARACTERS  # \0 stands between files; codes start at 1, so 0 pads
if len(_ALPHABET) >= OTHER:
    raise ImportError("the match model's alphabet outgrew one byte")


class _Codes(dict):
    """str.translate's table: each character's code, OTHER for any not in the alphabet."""

    def __missing__(self, point: int) -> int:
        return OTHER


_ENCODE = _Codes({ord(ch): i + 1 for i, ch in enumerate(_ALPHABET)})
_DECODE = np.array([0] + [ord(ch) for ch in _ALPHABET] + [0] * (OTHER - len(_ALPHABET)), np.int64)


def encode(text: str) -> bytes:
    """One byte per character: its code, or OTHER. (In C: a lookup runs this for every
    character the match model is asked about, ~10x faster than a generator.)"""
    return text.translate(_ENCODE).encode("latin-1")


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
    ranks 8, 16, ... characters apart. At most ~20 bytes a character at once: the key (8), the
    sort's int64 order (8) and its int32 copy (4); nothing else lives through a sort."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    padded = np.zeros(n + 8, dtype=np.uint8)
    padded[:n] = codes
    key = np.zeros(n, dtype=np.uint64)
    for j in range(8):
        key <<= np.uint64(8)
        key |= padded[j : n + j]
    del padded
    order = np.argsort(key).astype(np.int32)
    rank = _ranks(key, order)
    span = 8
    while span < MAX_LENGTH and int(rank.max()) < n:
        key[:] = rank  # past the end ranks 0: shorter sorts first
        key <<= np.uint64(32)
        key[: n - span] |= rank[span:].view(np.uint32)  # ranks are positive
        del rank, order
        order = np.argsort(key).astype(np.int32)
        rank = _ranks(key, order)
        span *= 2
    return order


_CHUNK = 1 << 20  # keys compared at once when ranking: all of them sorted would be 8 bytes each


def _ranks(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """rank[i]: 1 + how many distinct keys are smaller than key[i]."""
    n = len(key)
    step = np.empty(n, dtype=np.int32)
    step[0] = 1
    for lo in range(0, n - 1, _CHUNK):
        hi = min(n - 1, lo + _CHUNK)
        ordered = key[order[lo : hi + 1]]
        np.not_equal(ordered[1:], ordered[:-1], out=step[lo + 1 : hi + 1])
    np.cumsum(step, out=step)
    rank = np.empty(n, dtype=np.int32)
    rank[order] = step
    return rank


class ReversedCorpus:
    """A corpus's codes read backwards and their suffix array: finds the longest earlier
    occurrence of a context's suffix, exactly, in O(log n) comparisons. The codes may be bytes
    or a read-only mmap of them, the arrays memory-mapped (see index_file): slicing either gives
    bytes, which is all the search compares."""

    def __init__(
        self,
        reversed_codes: bytes | mmap.mmap,
        suffixes: np.ndarray,
        other_at: np.ndarray,
        other_chars: str,
    ) -> None:
        self.reversed = reversed_codes
        self.size = len(reversed_codes)
        self.suffixes = suffixes
        # Characters outside the table, by position, so that reading gives them back.
        self.other_at = other_at
        self.other_chars = other_chars

    @classmethod
    def of_text(cls, text: str) -> ReversedCorpus:
        codes = encode_array(text)
        other_at = np.flatnonzero(codes == OTHER)
        other_chars = "".join(text[i] for i in other_at.tolist())
        codes = codes[::-1].copy()
        return cls(codes.tobytes(), build(codes), other_at, other_chars)

    def char(self, i: int) -> str:
        """The corpus text[i]."""
        code = self.reversed[self.size - 1 - i]
        if code == OTHER:
            return self.other_chars[int(np.searchsorted(self.other_at, i))]
        return chr(_DECODE[code])

    def read(self, start: int, end: int) -> str:
        """The corpus text[start:end]."""
        start, end = max(0, start), min(self.size, end)
        if start >= end:
            return ""
        piece = self.reversed[self.size - end : self.size - start][::-1]
        chars = [chr(c) for c in _DECODE[np.frombuffer(piece, dtype=np.uint8)]]
        first, last = np.searchsorted(self.other_at, [start, end]).tolist()
        for i, ch in zip(
            self.other_at[first:last].tolist(), self.other_chars[first:last], strict=True
        ):
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
        below = sa[max(0, lo - candidates) : lo][::-1].tolist()
        for starts in (below, sa[lo : lo + candidates].tolist()):
            # Further from the query in sorted order, a suffix shares no more with it than the
            # one before: once that is as long as the best, a slice comparison says the rest.
            shared = -1
            for start in starts:
                if shared == best[0] > 0:
                    if rev[start : start + shared] != query[:shared]:
                        break
                    length = shared
                else:
                    length = _common_prefix(rev, start, query)
                    if length < best[0] or length == 0:
                        break
                shared = length
                end = self.size - start  # the text position just after the occurrence
                usable = end < self.size and not (skip and skip[0] <= end < skip[1])
                if usable and (length, end) > best:
                    best = (length, end)
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
    """How many leading bytes of rev[start:] equal those of query: the first differing byte is
    the highest set one of the two read as integers, XORed (three calls in C, where a binary
    search on slices took eight)."""
    size = min(len(query), len(rev) - start)
    differ = int.from_bytes(rev[start : start + size], "big") ^ int.from_bytes(query[:size], "big")
    return size - (differ.bit_length() + 7) // 8


def longest_in(text: str, tail: str, end: int, start: int = 0) -> tuple[int, int]:
    """(length, end) as ReversedCorpus.longest, searching text[start:end] directly: for a
    document, which changes with every keystroke. Each `rfind` (in C) finds the latest
    occurrence of one character more than the longest found so far, which is then measured
    backwards: the latest occurrence of a suffix that goes on furthest is also the latest of
    that longer suffix. Only the last, failing search reads the whole window (a binary search
    on the length read it about four times)."""
    limit = min(MAX_LENGTH, len(tail), end - start)
    length, found = 0, 0
    while length < limit:
        want = length + 1
        j = text.rfind(tail[-want:], start, end - 1)  # with a character after it, before `end`
        if j < 0:
            break
        length, found = want + _common_suffix(text, start, j, tail[: len(tail) - want]), j + want
        length = min(length, limit)
    return length, found


def _common_suffix(text: str, start: int, stop: int, other: str) -> int:
    """How many characters text[start:stop] and `other` share at their ends (binary search on
    slice equality, compared in C)."""
    lo, hi = 0, min(stop - start, len(other))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text[stop - mid : stop] == other[len(other) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


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


def occurrences_ahead(text: str, tail: str, length: int, cap: int = 64) -> list[int]:
    """Where occurrences of tail's last `length` characters end in `text`, earliest first, each
    with a character after it: for the document below the cursor, whose nearest lines are the
    likeliest to be alike."""
    if length <= 0:
        return []
    needle, found, j = tail[-length:], [], 0
    while len(found) < cap:
        j = text.find(needle, j, len(text) - 1)
        if j < 0:
            break
        found.append(j + length)
        j += 1
    return found
