"""One thread that runs all model work: requests first, background reading in small slices.

A single thread keeps inference to one core (the other stays with the editor and any training) and
means the state cache never sees two readers of one document at once.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

URGENT, BACKGROUND = 0, 1


class Worker:
    def __init__(self) -> None:
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._run, name="lstm-complete-model", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any], priority: int = URGENT) -> Future:
        future: Future = Future()
        self._queue.put((priority, next(self._order), fn, future))
        return future

    def urgent_waiting(self) -> bool:
        """Is a request (or the stop) queued? Background work asks between lines, and yields."""
        waiting = self._queue.queue  # a heap: its first item has the highest priority
        return bool(waiting) and waiting[0][0] < BACKGROUND

    def _run(self) -> None:
        while True:
            _, _, fn, future = self._queue.get()
            if fn is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as err:  # handed to whoever awaits the future
                future.set_exception(err)

    def stop(self) -> None:
        """Finish the task in hand, drop the rest, and end the thread (no model work may be
        running when the interpreter exits)."""
        self._queue.put((-1, next(self._order), None, Future()))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)
