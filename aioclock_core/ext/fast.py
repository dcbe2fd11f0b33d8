"""FastAPI extension: list an app's tasks and run one now over HTTP (extra `fastapi`)."""

from __future__ import annotations

from uuid import UUID

from aioclock_core.api import TaskMetadata, get_metadata_of_all_tasks, run_specific_task
from aioclock_core.app import AioClock
from aioclock_core.exceptions import TaskIdNotFound

try:
    from fastapi import APIRouter, HTTPException
except ImportError as missing:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "aioclock_core.ext.fast needs FastAPI, which is not installed. "
        "Install the extra: pip install 'clocktui[fastapi]' (or pip install fastapi)."
    ) from missing

__all__ = ["make_fastapi_router"]


def make_fastapi_router(aioclock: AioClock, router: APIRouter | None = None) -> APIRouter:
    """A router with `GET /tasks` (metadata of every task) and `POST /task/{task_id}`
    (run that task now; 404 for an unknown id). Pass your own `router` to add
    dependencies or authorization."""
    router = router or APIRouter()

    @router.get("/tasks")
    async def get_tasks() -> list[TaskMetadata]:
        return await get_metadata_of_all_tasks(aioclock)

    @router.post("/task/{task_id}")
    async def run_task(task_id: UUID) -> None:
        try:
            await run_specific_task(task_id, aioclock)
        except TaskIdNotFound as exc:
            raise HTTPException(status_code=404, detail="Task not found") from exc

    return router
