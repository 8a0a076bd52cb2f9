"""Completions for a position of a document: the state cache, the model, post-processing.
Nothing here knows about LSP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trainer.sampling import CONTEXT_TAIL, Cancelled, Predictor, Stop, Strategy, Suggestion
from trainer.stepper import State

from . import postprocess
from .settings import Settings
from .state_cache import Point, StateCache

# Characters read for one request at most; past it, start afresh half as far back. Measured at
# 150 held-out positions, all from a fresh start: 35 ghost texts right with 4,000 (2,000 read),
# and 35 with 500 (250 read); reading costs ~70 us a character, so this bounds a request's wait.
MAX_READ = 600
BACKGROUND_SLICE = 150  # characters per background slice; it yields to requests at line starts

__all__ = ["Cancelled", "Engine", "Request"]


@dataclass
class Request:
    uri: str
    lines: list[str]  # the document's lines, each with its line ending
    line: int
    col: int
    settings: Settings
    cancelled: Callable[[], bool] = lambda: False
    key: str | None = None  # the document's path in the workspace corpus, if it is in it
    epoch: int | None = None  # the state cache's epoch when `lines` were taken

    @property
    def before(self) -> str:
        return self.lines[self.line][: self.col]

    @property
    def word(self) -> str:
        """The identifier characters just before the cursor: what a list item replaces."""
        before = self.before
        i = len(before)
        while i and (before[i - 1].isalnum() or before[i - 1] == "_"):
            i -= 1
        return before[i:]

    @property
    def after(self) -> str:
        return self.lines[self.line][self.col :].rstrip("\r\n")


class Engine:
    def __init__(self, cache: StateCache, use_cache: bool = True) -> None:
        self.cache = cache
        self.use_cache = use_cache  # off only to measure what the cache saves

    def _state_at(
        self,
        predictor: Predictor,
        uri: str,
        lines: list[str],
        line: int,
        col: int,
        budget: int | None = MAX_READ,
        cancelled: Callable[[], bool] = lambda: False,
        epoch: int | None = None,
    ) -> tuple[np.ndarray, State] | None:
        """Logits and state after lines[:line] and lines[line][:col], read from the nearest
        checkpoint; line-start checkpoints crossed on the way are stored. With a budget, a
        checkpoint further back than `budget` characters is replaced by a fresh start nearer."""
        if not self.use_cache:
            logits, state = predictor.start()
            return predictor.feed(_text_between(lines, 0, 0, line, col), logits, state)
        doc = self.cache.get(uri, len(lines), predictor)
        if epoch is None:
            epoch = doc.epoch
        start = doc.nearest(line, col)
        if start is None:
            logits, state = predictor.start()
            at_line, at_col = 0, 0
        else:
            logits, state, at_line, at_col = start.logits, start.state, start.line, start.col
        if budget is not None and _distance(lines, at_line, at_col, line, col, budget) > budget:
            text = _text_between(lines, max(0, line - 200), 0, line, col)[-budget // 2 :]
            logits, state = predictor.start()
            logits, state = predictor.feed(text, logits, state)
            # Kept as the cursor's state: the next keystroke reads one character from here
            # instead of this whole stretch again, until reading ahead reaches this line.
            cursor = Point(line, col, logits, state) if col else None
            self.cache.store(uri, epoch, [], cursor, predictor)
            return logits, state
        points = []
        while (at_line, at_col) < (line, col):
            if cancelled():
                self.cache.store(uri, epoch, points, None, predictor)  # read, and still valid
                raise Cancelled
            end = col if at_line == line else len(lines[at_line])
            logits, state = predictor.feed(lines[at_line][at_col:end], logits, state)
            if at_line == line:
                break
            at_line, at_col = at_line + 1, 0
            points.append(Point(at_line, 0, logits, state))
        cursor = Point(line, col, logits, state) if col else None
        self.cache.store(uri, epoch, points, cursor, predictor)
        return logits, state

    def read_ahead(
        self,
        predictor: Predictor,
        uri: str,
        lines: list[str],
        epoch: int | None = None,
        yield_to: Callable[[], bool] = lambda: False,
    ) -> int | None:
        """Store checkpoints a little further into the document; the next line to read, or None
        once the whole document has checkpoints. Run between requests after a document opens.
        When `yield_to` says so (a request is waiting), it stops at the next line start, keeping
        what it read."""
        if not self.use_cache:
            return None
        doc = self.cache.get(uri, len(lines), predictor)
        have = doc.lines[-1] if doc.lines else 0
        if have + doc.stride > len(lines) - 1:
            return None
        target, chars = have, 0
        while target < len(lines) - 1 and chars < BACKGROUND_SLICE:
            chars += len(lines[target])
            target += 1
        # End on a line that keeps a checkpoint, or the next slice would start here again.
        target = min(len(lines) - 1, -(-max(target, have + doc.stride) // doc.stride) * doc.stride)
        try:
            self._state_at(
                predictor, uri, lines, target, 0, budget=None, cancelled=yield_to, epoch=epoch
            )
        except Cancelled:
            return have  # not done: the next slice goes on from what this one stored
        return target

    def _prepare(self, predictor: Predictor, req: Request) -> tuple[str, str, np.ndarray, State]:
        """The text before the cursor and the lines below it that the match model searches, and
        the model's logits and state at the cursor."""
        logits, state = self._state_at(
            predictor,
            req.uri,
            req.lines,
            req.line,
            req.col,
            cancelled=req.cancelled,
            epoch=req.epoch,
        )
        # The match model searches only the last CONTEXT_TAIL characters: gather just those.
        first, chars = req.line, len(req.before)
        while first > 0 and chars < CONTEXT_TAIL:
            first -= 1
            chars += len(req.lines[first])
        context = ("".join(req.lines[first : req.line]) + req.before)[-CONTEXT_TAIL:]
        last, chars = req.line + 1, 0
        while last < len(req.lines) and chars < CONTEXT_TAIL:
            chars += len(req.lines[last])
            last += 1
        below = "".join(req.lines[req.line + 1 : last])[:CONTEXT_TAIL]
        return context, below, logits, state

    def inline(self, predictor: Predictor, req: Request) -> str | None:
        """The single most likely continuation, to the end of the line or of a confident block."""
        context, below, logits, state = self._prepare(predictor, req)
        stop = Stop(max_chars=req.settings.maxLength, block=not req.after.strip())
        best = predictor.continuations(
            context,
            logits,
            state,
            1,
            stop,
            # Where the model writes the line itself. Measured in-process at 150 held-out
            # positions: greedy equalled the rest of the line at 35, a beam of 4 at 34, and took
            # 9.7 ms (p50) against 12.2.
            Strategy("greedy"),
            req.cancelled,
            req.key,
            below,
        )
        return postprocess.Cleaner(context, req.after)(best[0].text) if best else None

    def alternatives(self, predictor: Predictor, req: Request) -> list[Suggestion]:
        """Several distinct continuations to the end of the line, most likely first."""
        context, below, logits, state = self._prepare(predictor, req)
        n = req.settings.numSuggestions
        stop = Stop(max_chars=min(req.settings.maxLength, 60))
        if req.settings.temperature > 0:
            strategy = Strategy("sample", temperature=req.settings.temperature)
            raw = predictor.continuations(
                context, logits, state, n * 2, stop, strategy, req.cancelled, req.key, below
            )
        else:
            raw = predictor.continuations(
                context, logits, state, n, stop, Strategy("beam"), req.cancelled, req.key, below
            )
        clean = postprocess.Cleaner(context, req.after)
        out: list[Suggestion] = []
        seen: set[str] = set()
        for s in raw:
            text = clean(s.text)
            if text is not None and text not in seen:
                seen.add(text)
                out.append(Suggestion(text, s.logprob))
        return out[:n]


def _distance(lines: list[str], l0: int, c0: int, l1: int, c1: int, cap: int) -> int:
    """Characters from (l0, c0) to (l1, c1), counted no further than cap."""
    total = -c0
    for i in range(l0, l1):
        total += len(lines[i])
        if total > cap:
            return total
    return total + c1


def _text_between(lines: list[str], l0: int, c0: int, l1: int, c1: int) -> str:
    return "".join(lines[l0:l1])[c0:] + lines[l1][:c1] if l0 < l1 else lines[l1][c0:c1]
