"""Read ahead: produce the next items in a thread while the caller works on the current ones.

Ingest reads, cleans and cuts documents in Python while the model runs in onnxruntime (which
releases the GIL): producing the next documents during the current batch's model pass takes
that work off the critical path. The items waiting are bounded by their total size (chunks), so
memory stays flat however far the producer could run ahead.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")


class _Done:
    """Marks the end of the items (with the producer's exception, if it failed)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class ReadAhead(Generic[T]):
    """Iterate ``items`` produced by a daemon thread, at most ``limit`` (by ``size``) waiting at a time.

    An exception in the producer is raised in the consumer; closing (or leaving a ``with`` block)
    stops the producer at its next item.
    """

    def __init__(self, items: Iterable[T], size: Callable[[T], int], limit: int) -> None:
        self._items = items
        self._size = size
        self._limit = max(1, limit)
        self._queue: deque[T | _Done] = deque()
        self._waiting = 0  # total size of the items in the queue
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._produce, name="citebot-read-ahead", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        end = _Done()
        try:
            for item in self._items:
                n = self._size(item)
                with self._cond:
                    self._cond.wait_for(partial(self._room_for, n))
                    if self._closed:
                        return
                    self._queue.append(item)
                    self._waiting += n
                    self._cond.notify_all()
        except BaseException as exc:  # handed to the consumer, which raises it
            end = _Done(exc)
        with self._cond:
            self._queue.append(end)
            self._cond.notify_all()

    def _room_for(self, n: int) -> bool:
        """True when an item of size ``n`` may join the queue (one larger than the limit goes through alone)."""
        return self._closed or self._waiting == 0 or self._waiting + n <= self._limit

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue))
                item = self._queue.popleft()
                if not isinstance(item, _Done):
                    self._waiting -= self._size(item)
                self._cond.notify_all()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        """Stop the producer (it finishes the item in hand, then returns)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
