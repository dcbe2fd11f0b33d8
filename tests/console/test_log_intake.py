"""LogIntake and LogBook: log records reach the UI batched, bounded and, past a rate,
dropped with one line that counts them."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from uuid import uuid4

from clocktui.log_intake import LogIntake
from clocktui.logbook import LogBook, LogEntry

AT = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)


def entry(message: str = "line", task: object = None) -> LogEntry:
    return LogEntry(
        at=AT, level=logging.INFO, logger="app", message=message, task_id=task, task_name=None
    )  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lines_past_the_rate_are_dropped_and_counted_in_one_line() -> None:
    clock = Clock()
    intake = LogIntake(lambda: None, rate=100, burst=10, pending=1000, monotonic=clock)
    taken = [intake.offer(lambda i=i: entry(f"line {i}")) for i in range(25)]
    assert taken == [True] * 10 + [False] * 15
    clock.now = 0.05  # 5 more lines' worth of rate
    for i in range(25, 30):
        assert intake.offer(lambda i=i: entry(f"line {i}"))
    messages = [e.message for e in intake.drain(AT)]
    assert messages[:10] == [f"line {i}" for i in range(10)]
    assert messages[10].startswith("15 log lines dropped (more than 100 a second")
    assert messages[11:] == [f"line {i}" for i in range(25, 30)]
    assert intake.dropped == 15


def test_drops_at_the_end_are_counted_when_the_ui_drains() -> None:
    intake = LogIntake(lambda: None, rate=1, burst=1, monotonic=Clock())
    for _ in range(3):
        intake.offer(entry)
    drained = intake.drain(AT)
    assert [e.message[:17] for e in drained] == ["line", "2 log lines dropp"]
    assert drained[1].level == logging.WARNING and drained[1].at == AT


def test_the_buffer_never_holds_more_than_its_limit_whatever_the_rate() -> None:
    intake = LogIntake(lambda: None, rate=1e9, burst=1e9, pending=50)
    for _ in range(10_000):
        intake.offer(entry)
    assert intake.waiting == 50 and intake.dropped == 10_000 - 50


def test_a_dropped_line_is_never_formatted() -> None:
    intake = LogIntake(lambda: None, rate=1, burst=1, monotonic=Clock())
    made = []
    for _ in range(5):
        intake.offer(lambda: made.append(1) or entry())  # type: ignore[func-returns-value]
    assert len(made) == 1


def test_the_ui_is_woken_once_until_it_drains() -> None:
    wakes = []
    intake = LogIntake(lambda: wakes.append(1))
    for _ in range(100):
        intake.offer(entry)
    assert len(wakes) == 1
    intake.drain(AT)
    intake.offer(entry)
    assert len(wakes) == 2


def test_the_logbook_keeps_ten_thousand_lines_and_a_bounded_number_per_task() -> None:
    book = LogBook(limit=10_000, per_task=5, task_budget=12)
    tasks = [uuid4() for _ in range(4)]
    for index in range(20_000):
        book.add(entry(str(index), tasks[index % 4]))
    assert len(book.entries) == 10_000 and book.entries[0].message == "10000"
    assert book.task_records <= 12
    assert book.of_task(tasks[3])[-1].message == "19999"


def test_the_task_that_logged_least_recently_gives_its_lines_up_first() -> None:
    book = LogBook(limit=100, per_task=5, task_budget=10)
    old, busy, busier = uuid4(), uuid4(), uuid4()
    book.add(entry("old", old))
    for index in range(5):
        book.add(entry(f"busy {index}", busy))
    for index in range(5):
        book.add(entry(f"busier {index}", busier))
    assert book.of_task(old) == []
    assert len(book.of_task(busy)) == len(book.of_task(busier)) == 5


def test_a_task_that_logs_rarely_keeps_its_lines_through_a_flood() -> None:
    book = LogBook(limit=100, per_task=10, task_budget=1000)
    quiet, loud = uuid4(), uuid4()
    book.add(entry("quiet", quiet))
    for _ in range(5000):
        book.add(entry("loud", loud))
    assert [e.message for e in book.of_task(quiet)] == ["quiet"]
