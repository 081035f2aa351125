"""Read-ahead: items in order, a bounded number waiting, errors raised where they are consumed."""

from __future__ import annotations

import threading
import time

import pytest

from ingest.readahead import ReadAhead


def test_items_come_in_order_with_at_most_the_limit_waiting():
    produced: list[int] = []
    waiting: list[int] = []

    def items():
        for i in range(20):
            produced.append(i)
            yield [i] * (1 + i % 3)  # sizes 1, 2, 3, 1, 2, 3...

    got = []
    with ReadAhead(items(), size=len, limit=4) as ahead:
        for item in ahead:
            time.sleep(0.01)  # a slow consumer: the producer runs ahead until the limit
            waiting.append(len(produced) - len(got) - 1)
            got.append(item[0])
    assert got == list(range(20))
    assert max(waiting) <= 4  # never more than 4 chunks' worth of items waiting (plus the one in hand)
    assert max(waiting) >= 2  # but it did read ahead


def test_an_item_larger_than_the_limit_still_goes_through():
    with ReadAhead(iter([[1] * 10, [2]]), size=len, limit=3) as ahead:
        assert [len(x) for x in ahead] == [10, 1]


def test_a_producer_error_is_raised_in_the_consumer():
    def items():
        yield 1
        raise OSError("disk gone")

    with ReadAhead(items(), size=lambda x: 1, limit=2) as ahead, pytest.raises(OSError, match="disk gone"):
        list(ahead)


def test_leaving_early_stops_the_producer():
    produced: list[int] = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    with ReadAhead(items(), size=lambda x: 1, limit=2) as ahead:
        for item in ahead:
            if item == 3:
                break
    time.sleep(0.2)
    assert len(produced) < 10
    assert not [t for t in threading.enumerate() if t.name == "citebot-read-ahead" and t.is_alive()]
