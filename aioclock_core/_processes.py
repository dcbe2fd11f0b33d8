"""The process pool of `executor="process"` tasks: spawned workers run one body at a time,
stream its log records back, and are killed when its run times out or is cancelled."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import pickle
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aioclock_core.exceptions import WorkerProcessDied
from aioclock_core.runs import RunSink

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from aioclock_core._entry import Run, TaskEntry
    from aioclock_core._scheduler import Scheduler

logger = logging.getLogger("aioclock")

EXECUTORS = ("thread", "process")
"""What `executor=` takes (None: async def on the event loop, def in a worker thread)."""
_CLOSE_WAIT = 5.0
"""Real seconds the pool waits for its workers to exit before it kills them."""
_INLINE_SEND = 64 * 1024
"""Bytes of a job sent from the loop; a larger one is written from a thread (the pipe
would block the loop while a worker still starts up)."""


def check_executor(
    executor: str | None, func: Callable[..., Any], is_async: bool, where: str
) -> None:
    """Refuse, at registration, an executor the task cannot run on."""
    check_executor_name(executor, where)
    if executor == "thread" and is_async:
        raise TypeError(
            f"{where}: executor='thread' runs a plain def in a worker thread, but "
            f"{getattr(func, '__qualname__', func)}() is async def and runs on the event loop; "
            "drop executor=, or use executor='process' for CPU-heavy work"
        )
    if executor == "process":
        check_importable(func, where)
        # Loaded now, at registration: loading them when serve() starts the pool took
        # 5 to 15 ms from the first firings (the blocking-process benchmark's first row).
        import multiprocessing.connection  # noqa: F401

        import aioclock_core._process_child  # noqa: F401


def check_executor_name(executor: str | None, where: str) -> None:
    """Refuse an executor name that is not one of `EXECUTORS` (None passes)."""
    if executor is not None and executor not in EXECUTORS:
        raise ValueError(
            f"{where}: executor must be 'thread' or 'process' (or None: async def on the "
            f"event loop, def in a worker thread), got {executor!r}"
        )


def check_importable(func: Callable[..., Any], where: str) -> None:
    """A worker process finds a task's function by module and name: refuse a lambda, a
    function defined inside another one, or anything else without such a name."""
    qualname = getattr(func, "__qualname__", None)
    module = getattr(func, "__module__", None)
    problem = None
    if qualname is None or module is None:
        problem = f"{func!r} has no module-level name"
    elif "<lambda>" in qualname:
        problem = f"{qualname} is a lambda"
    elif "<locals>" in qualname:
        outer = qualname.split(".<locals>")[0]
        problem = f"{qualname.split('.')[-1]}() is defined inside {outer}() (a closure)"
    if problem is not None:
        raise TypeError(
            f"{where}: executor='process' needs a module-level function (the worker process "
            f"imports it by module and name), but {problem}; define it with `def` at the top "
            "level of its module"
        )


class RemoteTraceback(Exception):
    """The traceback of an error raised in a worker process (the error's `__cause__`)."""

    def __str__(self) -> str:
        return str(self.args[0]).rstrip()


class _Job:
    """One body sent to a worker: where its answer goes and in which run context its log
    records are emitted."""

    __slots__ = ("context", "future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.context = contextvars.copy_context()  # the run's: its records are its own

    def settle(self, outcome: Callable[[], Any] | BaseException) -> None:
        """Resolve the future from any thread (an outcome callable gives the result)."""

        def resolve() -> None:
            if self.future.done():
                return
            if isinstance(outcome, BaseException):
                self.future.set_exception(outcome)
            else:
                try:
                    self.future.set_result(outcome())
                except BaseException as error:
                    self.future.set_exception(error)

        try:
            self.loop.call_soon_threadsafe(resolve)
        except RuntimeError:  # the loop closed: nobody waits any more
            pass


class _Worker:
    """One spawned process and the thread that starts it and reads what it sends."""

    def __init__(self, on_exit: Callable[[_Worker], None]) -> None:
        import multiprocessing

        from aioclock_core._process_child import serve_jobs

        spawn = multiprocessing.get_context("spawn")
        self.connection, child_end = spawn.Pipe(duplex=True)
        self._child_end: Connection | None = child_end
        self.process: BaseProcess = spawn.Process(
            target=serve_jobs, args=(child_end,), name="aioclock-process-worker", daemon=True
        )
        self.job: _Job | None = None
        self.doomed = False
        self.alive = True
        self._on_exit = on_exit
        self._started = threading.Event()
        self._reader = threading.Thread(
            target=self._start_and_read, name="aioclock-process-reader", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self._started.is_set() else None

    def _start_and_read(self) -> None:
        # Starting the interpreter takes a few milliseconds of this thread, not the loop's.
        try:
            _start_resource_tracker()
            self.process.start()
        except BaseException as error:
            self.alive = False
            self._started.set()
            self._fail(WorkerProcessDied(f"could not start a worker process: {error!r}"))
            self._on_exit(self)
            return
        assert self._child_end is not None
        self._child_end.close()  # ours closed: the worker's death reads as end of file
        self._child_end = None
        self._started.set()
        if self.doomed:
            self.process.kill()
        while True:
            try:
                data = self.connection.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                message = pickle.loads(data)
            except Exception as error:
                self._fail(error)
                continue
            self._handle(message)
        self.process.join()
        self.alive = False
        self.connection.close()
        self._fail(
            WorkerProcessDied(
                f"the worker process (pid {self.process.pid}) exited with code "
                f"{self.process.exitcode} while running the task"
            )
        )
        self._on_exit(self)

    def _handle(self, message: tuple[Any, ...]) -> None:
        job = self.job
        if job is None:
            return
        kind = message[0]
        if kind == "log":
            job.context.run(_emit_record, self.process.pid, *message[1:])
        elif kind == "returned":
            self.job = None
            value = message[1]
            job.settle(lambda: value)
        elif kind == "raised":
            self.job = None
            job.settle(_rebuilt_error(*message[1:]))

    def _fail(self, error: BaseException) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.settle(error)

    async def send(self, job: _Job, payload: bytes) -> None:
        self.job = job
        if len(payload) <= _INLINE_SEND:
            self.connection.send_bytes(payload)
        else:
            import anyio.to_thread

            await anyio.to_thread.run_sync(self.connection.send_bytes, payload)

    def kill(self) -> None:
        """Terminate the worker at once (its job is abandoned)."""
        self.job = None
        self.doomed = True
        if self._started.is_set() and self.alive:
            try:
                self.process.kill()
            except (OSError, ValueError):  # already gone, or closed
                pass

    def stop(self) -> None:
        """Ask an idle worker to exit."""
        try:
            self.connection.send_bytes(b"")
        except (OSError, ValueError):
            self.kill()

    def join(self, timeout: float) -> bool:
        self._reader.join(timeout)
        return not self._reader.is_alive()


_tracker_lock = threading.Lock()


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (once per process) with a real stderr: it
    hands `sys.stderr.fileno()` to the tracker, and a console (Textual) replaces stderr
    with an object whose fileno() is -1, which makes every spawn fail."""
    import sys
    from multiprocessing import resource_tracker

    with _tracker_lock:
        try:
            usable = sys.stderr.fileno() >= 0
        except Exception:
            usable = False
        if usable:
            resource_tracker.ensure_running()
            return
        replaced, sys.stderr = sys.stderr, sys.__stderr__
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = replaced


def _emit_record(
    pid: int | None,
    name: str,
    level: int,
    message: str,
    created: float,
    exc_text: str | None,
) -> None:
    """Log a worker's record here, in its run's context: the run keeps the line and every
    handler (a console's) sees it, as if the body had run in this process."""
    target = logging.getLogger(name)
    if not target.isEnabledFor(level):
        return
    record = target.makeRecord(name, level, "(worker process)", 0, message, (), None)
    record.created = created
    record.msecs = (created - int(created)) * 1000
    record.process = pid
    record.processName = "aioclock-process-worker"
    record.exc_text = exc_text
    target.handle(record)


def _rebuilt_error(
    error: BaseException | None, type_name: str, text: str, remote_traceback: str
) -> BaseException:
    """The worker's error, with its traceback as the cause (the worker's frames are the
    ones that matter); a RuntimeError naming it if the error itself did not survive."""
    if error is None:
        error = RuntimeError(f"{type_name}: {text}")
    error.__cause__ = RemoteTraceback(remote_traceback)
    return error


class ProcessPool:
    """At most `size` worker processes, started (with 'spawn') as needed and reused.

    Args:
        size: Bodies that run at once; more wait for a free worker.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [pid for worker in list(self._workers) if (pid := worker.pid) is not None]

    def warm(self, count: int) -> None:
        """Start up to `count` workers now (in the background), so that the first runs do
        not wait for an interpreter to start."""
        for _ in range(min(count, self.size) - len(self._workers)):
            self._idle.append(self._new_worker())

    def _new_worker(self) -> _Worker:
        worker = _Worker(self._forget)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _forget(self, worker: _Worker) -> None:  # any thread: the worker has exited
        with self._lock:
            self._workers.discard(worker)

    def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
        return self._new_worker()

    async def run(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        run: Run,
    ) -> Any:
        """Run `func(*args, **kwargs)` in a worker and return its result; cancelling the
        caller kills that worker."""
        payload = pickled_job(func, args, kwargs, run.task_name)
        run.waiting_for = "a worker process"
        async with self._slots:
            run.waiting_for = None
            worker = self._take()
            job = _Job(asyncio.get_running_loop())
            try:
                await worker.send(job, payload)
                result = await job.future
            except asyncio.CancelledError:
                worker.kill()
                run.process_killed = True
                raise
            except OSError:  # the worker died between two jobs: never hand it out again
                worker.kill()
                raise
            finally:
                if worker.alive and not worker.doomed:
                    self._idle.append(worker)
            return result

    async def close(self) -> None:
        """Stop every worker (kill the busy ones) and wait until they have exited."""
        workers = list(self._workers)
        idle = set(self._idle)
        self._idle.clear()
        for worker in workers:
            if worker in idle:
                worker.stop()
            else:
                worker.kill()

        def join_all() -> list[_Worker]:
            return [worker for worker in workers if not worker.join(_CLOSE_WAIT)]

        import anyio.to_thread

        stuck = await anyio.to_thread.run_sync(join_all)
        for worker in stuck:
            worker.kill()
            worker.join(1.0)


def pickled_job(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], task_name: str
) -> bytes:
    """The job as the worker receives it, or a TypeError saying which part cannot travel."""
    level = logging.getLogger().getEffectiveLevel()
    try:
        return pickle.dumps((func, args, kwargs, level), pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        where = f"task {task_name!r} (executor='process')"
        for name, value in kwargs.items():
            if not _picklable(value):
                raise TypeError(
                    f"{where}: its dependency {name!r} gave a {type(value).__name__}, which "
                    f"cannot be pickled to the worker process ({error}); make the dependency "
                    "return plain data (a path, a URL, settings) and open the resource "
                    "inside the task"
                ) from None
        if not _picklable(func):
            raise TypeError(
                f"{where}: {getattr(func, '__qualname__', func)!r} cannot be pickled by "
                f"reference ({error}); it must be a module-level function that its module "
                "exposes under that name"
            ) from None
        raise


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return False
    return True


class WarmWhenIdle(RunSink):
    """Starts the pool's workers the first time no run is in flight (right after the
    first burst of firings), or after `WARM_AT_LATEST` seconds: starting an interpreter
    costs the loop's thread a few milliseconds of the interpreter lock, which must not
    land on the first firings (the blocking-process benchmark's first rows)."""

    def __init__(self, pool: ProcessPool, count: int) -> None:
        self._pool = pool
        self._count = count
        self._fallback = asyncio.get_running_loop().call_later(WARM_AT_LATEST, self.idle)

    @property
    def wants_started(self) -> bool:
        return False

    def idle(self) -> None:
        if self._count:
            self._fallback.cancel()
            self._pool.warm(self._count)
            self._count = 0


WARM_AT_LATEST = 1.0
"""Seconds after the start by which the process pool's workers start in any case."""


def open_pool(entries: Iterable[TaskEntry], size: int | None) -> ProcessPool | None:
    """A pool for the process tasks among `entries` (None if there are none)."""
    users = [entry for entry in entries if entry.executor == "process"]
    if not users:
        return None
    pool = ProcessPool(size or os.cpu_count() or 2)
    for entry in users:
        entry.process_pool = pool
    return pool


async def call_in_process(scheduler: Scheduler, entry: TaskEntry, run: Run) -> Any:
    """Resolve the task's dependencies here, then run its body in the pool."""
    pool = entry.process_pool
    assert pool is not None, "serve() opens the pool before any process task runs"
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = {}
    resolve = entry.arguments
    if resolve is not None:
        if asyncio.iscoroutinefunction(resolve):
            args, kwargs = await resolve()
        else:
            import anyio.to_thread

            args, kwargs = await anyio.to_thread.run_sync(resolve)
    clock = scheduler.clock
    clock.work_started()  # a fake clock lets the body finish before it moves on
    try:
        return await pool.run(entry.task.func, args, kwargs, run)
    finally:
        clock.work_finished()
