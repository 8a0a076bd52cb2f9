"""LSTM states at checkpoints of open documents, so a request reads only a few characters.

A document's states sit at line starts (every `stride`-th line once a document outgrows its cap)
plus one at the last request's cursor. An edit at (line, col) leaves valid every state taken at
or before that position and drops the rest. Documents are evicted least-recently-used once all
of them together hold more than the global cap.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from trainer.stepper import State

# Epochs are unique across documents and their successors: work begun on a document that was since
# forgotten (closed, replaced, or a new model) must not store its states into the one that follows.
_epochs = itertools.count(1)


@dataclass
class Point:
    line: int
    col: int
    logits: np.ndarray
    state: State


@dataclass
class DocumentStates:
    lines: list[int] = field(default_factory=list)  # sorted lines that have a checkpoint
    points: dict[int, Point] = field(default_factory=dict)
    cursor: Point | None = None
    stride: int = 1
    epoch: int = field(default_factory=lambda: next(_epochs))  # renewed by every edit

    def size(self) -> int:
        return len(self.points) + (self.cursor is not None)

    def edited(self, line: int, col: int) -> None:
        self.epoch = next(_epochs)  # work begun on older text must not store its states
        cut = bisect.bisect_right(self.lines, line)
        for dropped in self.lines[cut:]:
            del self.points[dropped]
        del self.lines[cut:]
        if self.cursor is not None and (line, col) < (self.cursor.line, self.cursor.col):
            self.cursor = None

    def nearest(self, line: int, col: int) -> Point | None:
        """The latest checkpoint at or before (line, col)."""
        i = bisect.bisect_right(self.lines, line)
        best = self.points[self.lines[i - 1]] if i else None
        c = self.cursor
        if (
            c is not None
            and (c.line, c.col) <= (line, col)
            and (best is None or c.line >= best.line)
        ):
            best = c
        return best

    def add_line_start(self, point: Point) -> None:
        if point.line % self.stride or point.line in self.points:
            return
        self.points[point.line] = point
        bisect.insort(self.lines, point.line)


class StateCache:
    """Checkpoints of every open document, bounded in count per document and in all."""

    def __init__(self, per_document: int = 2048, total: int = 8192) -> None:
        self.per_document = per_document
        self.total = total
        self.docs: OrderedDict[str, DocumentStates] = OrderedDict()
        self.model: object = None  # what computed the states: another model starts from nothing
        self.lock = threading.RLock()

    def get(self, uri: str, line_count: int, model: object) -> DocumentStates:
        with self.lock:
            if model is not self.model:
                self.docs.clear()
                self.model = model
            doc = self.docs.get(uri)
            if doc is None:
                doc = self.docs[uri] = DocumentStates()
            self.docs.move_to_end(uri)
            stride = max(1, -(-line_count // self.per_document))
            if stride != doc.stride:  # the document grew past its cap: thin it out
                doc.stride = stride
                for line in [x for x in doc.lines if x % stride]:
                    del doc.points[line]
                doc.lines = [x for x in doc.lines if x % stride == 0]
            return doc

    def epoch(self, uri: str) -> int:
        """The document's epoch now: taken with a copy of its text, it tells work on that copy
        whether the text has changed since (see store)."""
        with self.lock:
            doc = self.docs.get(uri)
            if doc is None:
                doc = self.docs[uri] = DocumentStates()
            return doc.epoch

    def edited(self, uri: str, line: int, col: int) -> None:
        with self.lock:
            if uri in self.docs:
                self.docs[uri].edited(line, col)

    def forget(self, uri: str) -> None:
        with self.lock:
            self.docs.pop(uri, None)

    def store(
        self, uri: str, epoch: int, points: list[Point], cursor: Point | None, model: object
    ) -> None:
        """Keep states computed by `model` from the text of `epoch`, unless either is gone (a
        request that began before an edit or a model swap must not store what it read)."""
        with self.lock:
            doc = self.docs.get(uri)
            if doc is None or doc.epoch != epoch or model is not self.model:
                return
            for p in points:
                doc.add_line_start(p)
            if cursor is not None:
                doc.cursor = cursor
            self._evict(keep=uri)

    def _evict(self, keep: str) -> None:
        total = sum(d.size() for d in self.docs.values())
        for uri in list(self.docs):
            if total <= self.total:
                break
            if uri != keep:
                total -= self.docs.pop(uri).size()

    def checkpoints(self) -> int:
        with self.lock:
            return sum(d.size() for d in self.docs.values())
