"""The console's model on its own: runs of this session and of earlier ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

from aioclock_core import AioClock, Every
from aioclock_core.events import SchedulerStarted, TaskAdded, TaskRemoved
from aioclock_core.runs import RunKind, RunOutcome, RunRecord
from clocktui.model import RECENT_RUNS, RECENT_TOTAL, ConsoleModel

START = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)


def started(task_id: UUID, at: datetime) -> RunRecord:
    return RunRecord(
        run_id=uuid4(),
        task_id=task_id,
        task_name="sync",
        kind=RunKind.SCHEDULE,
        scheduled_for=at,
        started_at=at,
    )


def ended(
    run: RunRecord, seconds: float = 0.5, outcome: RunOutcome = RunOutcome.SUCCEEDED
) -> RunRecord:
    return replace(
        run,
        ended_at=run.started_at + timedelta(seconds=seconds),
        duration=seconds,
        outcome=outcome,
        error_type=None if outcome is RunOutcome.SUCCEEDED else "ValueError",
        error_message=None if outcome is RunOutcome.SUCCEEDED else "bad",
    )


def model_of_one_task() -> tuple[ConsoleModel, UUID]:
    app = AioClock(name="model")

    @app.task(trigger=Every(seconds=10), name="sync")
    async def sync() -> None:
        return None

    task_id = app.tasks[0].id
    return ConsoleModel(app.tasks), task_id


def test_a_run_of_this_session_the_store_had_first_is_shown_once() -> None:
    model, task_id = model_of_one_task()
    model.apply([SchedulerStarted(at=START, task_count=1)])
    earlier = ended(started(task_id, START - timedelta(minutes=1)))
    current = started(task_id, START)
    # The history read at start-up found this session's first run already stored, before
    # the scheduler's delivery of the same run reached the console: the seed takes only
    # runs that started before the session.
    model.seed({task_id: [ended(current), earlier]}, paused=[], before=START)
    model.apply_runs([current, ended(current)])  # its start, then its end
    view = model.tasks[task_id]
    assert [run.run_id for run in view.recent] == [earlier.run_id, current.run_id]
    assert view.run_count == 1


def test_seeding_again_replaces_the_earlier_seed_and_keeps_this_sessions_runs() -> None:
    model, task_id = model_of_one_task()
    older, old = (ended(started(task_id, START - timedelta(minutes=m))) for m in (2, 1))
    model.seed({task_id: [old]}, paused=[], before=START)
    current = ended(started(task_id, START))
    model.apply_runs([current])
    model.seed({task_id: [current, old, older]}, paused=[], before=START)  # a larger read
    view = model.tasks[task_id]
    assert [run.run_id for run in view.recent] == [older.run_id, old.run_id, current.run_id]


def test_runs_of_earlier_sessions_fill_the_last_run_until_this_session_runs() -> None:
    model, task_id = model_of_one_task()
    model.apply([SchedulerStarted(at=START, task_count=1)])
    earlier = ended(started(task_id, START - timedelta(minutes=1)), seconds=2.0)
    model.seed({task_id: [earlier]}, paused=[], before=START)
    view = model.tasks[task_id]
    assert (view.last_run, view.run_count) == (earlier, 0)
    assert view.last_finished == earlier.started_at + timedelta(seconds=2)

    current = started(task_id, START + timedelta(seconds=10))
    model.apply_runs([current])
    assert view.state == "running" and view.last_finished == earlier.ended_at
    model.apply_runs([ended(current, seconds=0.25)])
    assert view.state == "idle"
    assert view.last_finished == current.started_at + timedelta(seconds=0.25)


def test_a_failure_is_counted_and_kept_until_a_later_failure() -> None:
    model, task_id = model_of_one_task()
    failed = ended(started(task_id, START), outcome=RunOutcome.FAILED)
    failures, touched = model.apply_runs([failed])
    view = model.tasks[task_id]
    assert failures == [failed] and touched == [task_id]
    assert view.failing and view.failure_count == 1 and view.last_error == "ValueError: bad"
    model.apply_runs([ended(started(task_id, START + timedelta(seconds=10)))])
    assert not view.failing and view.last_error == "ValueError: bad"


def test_a_cancelled_run_is_not_a_failure_in_the_console_either() -> None:
    model, task_id = model_of_one_task()
    model.apply_runs([ended(started(task_id, START), outcome=RunOutcome.CANCELLED)])
    view = model.tasks[task_id]
    assert not view.failing and view.failure_count == 0


def test_a_timed_out_run_whose_thread_still_runs_shows_as_overrun_until_it_returns() -> None:
    from aioclock_core.events import ThreadOverran, ThreadReturned

    model, task_id = model_of_one_task()
    run = ended(started(task_id, START), seconds=5, outcome=RunOutcome.TIMED_OUT)
    model.apply_runs([replace(run, ended_at=None, duration=None, outcome=None), run])
    model.apply([ThreadOverran(START, run)])
    view = model.tasks[task_id]

    assert (view.state, view.state_text) == ("overrun", "timed out, thread still running")
    assert model.counts()[3] == 1

    model.apply([ThreadReturned(START + timedelta(seconds=30), run, 25.0)])
    assert (view.state, model.counts()[3]) == ("idle", 0)


def test_counts_follow_runs_between_re_plans_and_a_batch_names_each_task_once() -> None:
    model, task_id = model_of_one_task()
    model.apply([SchedulerStarted(at=START, task_count=1)])
    assert model.counts() == (0, 0, 0, 0)
    first = started(task_id, START)
    failures, touched = model.apply_runs([first])
    assert touched == [task_id] and not failures
    assert model.counts() == (1, 0, 0, 0)
    model.plan({task_id: START + timedelta(seconds=10)})  # a next firing: no count moves
    assert model.counts() == (1, 0, 0, 0)
    # A batch with the run's end and a second run of the same task names the task once.
    second = started(task_id, START + timedelta(seconds=10))
    failures, touched = model.apply_runs([ended(first, outcome=RunOutcome.FAILED), second])
    assert touched == [task_id] and failures[0].run_id == first.run_id
    assert model.counts() == (1, 0, 1, 0)
    model.plan({task_id: START + timedelta(seconds=20)})
    model.apply_runs([ended(second)])
    assert model.counts() == (0, 0, 0, 0)
    _, touched = model.apply_runs([])
    assert touched == []


def model_of(count: int) -> ConsoleModel:
    app = AioClock(name="big")

    async def body() -> None:
        return None

    for index in range(count):
        app.task(trigger=Every(seconds=1), name=f"t{index}")(body)
    return ConsoleModel(app.tasks)


def test_a_large_apps_views_keep_a_share_of_the_recent_runs_and_an_open_one_keeps_all() -> None:
    assert model_of(10).recent_limit == RECENT_RUNS
    model = model_of(5000)
    assert model.recent_limit == RECENT_TOTAL // 5000 == 4
    view = next(iter(model.tasks.values()))
    runs = [ended(started(view.task_id, START + timedelta(seconds=s))) for s in range(60)]
    model.apply_runs(runs)
    assert list(view.recent) == runs[-4:]  # the newest
    total = sum(len(v.recent) for v in model.tasks.values())
    assert total == 4

    model.widen(view.task_id)  # its details opened: it keeps RECENT_RUNS from now on
    model.apply_runs(runs)
    assert list(view.recent) == runs[-RECENT_RUNS:]
    changes = view.recent_changes
    model.narrow(view.task_id)  # closed: back to its share, and the details would redraw
    assert list(view.recent) == runs[-4:]
    assert view.recent_changes > changes


def test_the_share_follows_tasks_added_and_removed_while_serving() -> None:
    model = model_of(400)
    assert model.recent_limit == RECENT_RUNS
    added = [
        TaskAdded(
            at=START,
            task_id=uuid4(),
            task_name=f"new{i}",
            group=None,
            trigger="every 1s",
            timeout=None,
        )
        for i in range(600)
    ]
    model.apply(added)
    assert model.recent_limit == RECENT_TOTAL // 1000 == 20
    assert {v.recent.maxlen for v in model.tasks.values()} == {20}
    model.apply([TaskRemoved(at=START, task_id=e.task_id, task_name=e.task_name) for e in added])
    assert model.recent_limit == RECENT_RUNS
    assert {v.recent.maxlen for v in model.tasks.values()} == {RECENT_RUNS}
