"""On-demand benchmark suite comparing aioclock_core with other asyncio schedulers."""
