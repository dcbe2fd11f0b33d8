"""Pure text helpers of the console: middle cuts, "ago" times, tracebacks from the user's
frame, the durations scale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rich.cells import cell_len

from clocktui.formatting import cut_middle, fit, format_ago, format_elapsed
from clocktui.screens.detail import duration_scale
from clocktui.tracebacks import from_user_frame

NOW = datetime(2026, 3, 28, 5, 18, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "width", "cut"),
    [
        ("reports.nightly.export.eu-west-1", 18, "repor…rt.eu-west-1"),
        ("reports.nightly.export.us-east-2", 18, "repor…rt.us-east-2"),
        ("short", 18, "short"),
        ("导出报表任务-欧洲西部-第一", 12, "导…西部-第一"),
    ],
)
def test_long_names_are_cut_in_the_middle_keeping_their_end(
    name: str, width: int, cut: str
) -> None:
    assert cut_middle(name, width).rstrip() == cut.rstrip()
    assert cell_len(cut_middle(name, width)) == width


def test_fit_cuts_names_in_the_middle_and_other_cells_at_the_end() -> None:
    assert fit("synchronise inventory", 10, middle=True) == "syn…entory"
    assert fit("synchronise inventory", 10) == "synchroni…"


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (NOW - timedelta(seconds=3), "05:18:07 (3 s ago)"),
        (NOW + timedelta(seconds=4), "05:18:14 (in 4 s)"),
        (NOW - timedelta(minutes=5, seconds=2), "05:13:08 (5 m ago)"),
        (NOW, "05:18:10 (now)"),
        (None, ""),
    ],
)
def test_times_read_with_how_long_ago(instant: datetime | None, text: str) -> None:
    assert format_ago(instant, NOW, timezone.utc) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (59.9, "59 s"), (61, "1 m"), (7300, "2 h"), (2e5, "2 d")]
)
def test_elapsed_time_fits_a_tight_cell(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


LIBRARY_TRACEBACK = """Traceback (most recent call last):
  File "{core}/_runner.py", line 53, in execute_run
    run.result = await asyncify(
                 ^^^^^^^^^^^^^^^
  File "/usr/lib/python3/site-packages/anyio/to_thread.py", line 65, in run_sync
    return await get_async_backend().run_sync_in_worker_thread(
  File "/home/me/app/jobs.py", line 17, in export
    rows = fetch()
  File "/home/me/app/jobs.py", line 9, in fetch
    raise ValueError("row 7 is bad")
ValueError: row 7 is bad
"""


def test_a_traceback_starts_at_the_users_frame() -> None:
    import aioclock_core

    core = aioclock_core.__file__.rsplit("/", 1)[0]
    trimmed = from_user_frame(LIBRARY_TRACEBACK.format(core=core))
    assert trimmed.splitlines() == [
        "Traceback (most recent call last):",
        "  (2 library frames above the task left out)",
        '  File "/home/me/app/jobs.py", line 17, in export',
        "    rows = fetch()",
        '  File "/home/me/app/jobs.py", line 9, in fetch',
        '    raise ValueError("row 7 is bad")',
        "ValueError: row 7 is bad",
    ]


def test_each_chained_traceback_is_trimmed_and_one_without_user_frames_is_kept() -> None:
    library_only = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/site-packages/redis/client.py", line 5, in get\n'
        "    raise ConnectionError()\n"
        "ConnectionError\n"
    )
    chained = (
        library_only + "\nDuring handling of the above exception, another exception occurred:\n\n"
    )
    import aioclock_core

    chained += LIBRARY_TRACEBACK.format(core=aioclock_core.__file__.rsplit("/", 1)[0])
    lines = from_user_frame(chained).splitlines()
    assert lines[1] == '  File "/usr/lib/python3/site-packages/redis/client.py", line 5, in get'
    assert "  (2 library frames above the task left out)" in lines
    assert lines.count("Traceback (most recent call last):") == 2


def test_the_durations_chart_has_a_scale() -> None:
    assert duration_scale([0.012, 0.04, 1.2, 0.03]) == ("max 1.2 s", "min 12 ms · p50 35 ms")
    assert duration_scale([]) == ("", "")
