"""A bounded pool of worker processes, so that a long render never blocks the event loop.

At most ``jobs`` jobs run and ``queue`` wait; :meth:`JobPool.run` refuses more with
:class:`PoolFull` (the route answers 429). Each job holds a *slot*, with a flag shared
with the workers: cancelling sets it, and the job stops at its next sampler step
(:mod:`styletx.service.jobs`); a job still waiting is simply dropped. A slot is freed
when its job has really ended, so a cancelled job still counts until its worker lets go.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing import get_context
from typing import Any, TypeVar

from styletx.service.jobs import CancelledJob, init_worker

T = TypeVar("T")


class PoolFull(Exception):
    """Every worker is busy and the queue is full; ``retry_after`` is a guess in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the service is busy; retry after {retry_after} s")
        self.retry_after = retry_after


class JobPool:
    """``jobs`` spawned worker processes and room for ``queue`` more jobs waiting."""

    def __init__(self, jobs: int, queue: int) -> None:
        self._ctx = get_context("spawn")  # torch's threads are never forked
        self.jobs, self.capacity = jobs, jobs + queue
        self._flags = self._ctx.Array("b", self.capacity, lock=False)
        self._free = list(range(self.capacity))
        self._executor = self._start()
        self._mean_seconds = 1.0

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.jobs, mp_context=self._ctx, initializer=init_worker,
                                   initargs=(self._flags,))

    @property
    def busy(self) -> int:
        """Jobs running or waiting."""
        return self.capacity - len(self._free)

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the queue's share of the mean job time."""
        return max(1, math.ceil(self._mean_seconds * self.capacity / self.jobs))

    async def run(self, fn: Callable[[Any], T], job: Any,
                  gone: Callable[[], Awaitable[bool]]) -> T:
        """Run ``fn(job)`` in a worker (``job`` gets its slot) and await the result.

        ``gone`` is polled while waiting; when it says the client left, the job is
        cancelled and :class:`~styletx.service.jobs.CancelledJob` raised.

        Raises
        ------
        PoolFull
            When ``jobs + queue`` jobs are already running or waiting.
        """
        if not self._free:
            raise PoolFull(self.retry_after())
        slot = self._free.pop()
        self._flags[slot] = 0
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        executor = self._executor
        future: Future[T] = executor.submit(fn, replace(job, slot=slot))

        def release(f: Future[T]) -> None:
            loop.call_soon_threadsafe(self._release, slot, f, t0)

        future.add_done_callback(release)
        waiting = asyncio.wrap_future(future)
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=0.1)
            if done:
                try:
                    return waiting.result()
                except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh
                    if self._executor is executor:
                        self._executor = self._start()
                    raise RuntimeError("a worker process died; the pool was restarted") from None
            if await gone():
                self._flags[slot] = 1
                future.cancel()  # drops it if it is still waiting
                raise CancelledJob("the client disconnected")

    def _release(self, slot: int, future: Future[Any], t0: float) -> None:
        if not future.cancelled() and future.exception() is None:
            self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * (time.monotonic() - t0)
        self._free.append(slot)

    def shutdown(self) -> None:
        """Let running and waiting jobs finish, then stop the workers."""
        self._executor.shutdown(wait=True)

