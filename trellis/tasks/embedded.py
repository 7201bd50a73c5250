"""The embedded runner: background work on a thread inside the web worker.

Used when no broker is configured. Each web worker process runs one; periodic
jobs are claimed through the database so that only one of them runs a job.
"""

import heapq
import itertools
import logging
import threading
import time

from trellis.tasks.registry import periodic_jobs, run_task_on_worker
from trellis.tasks.schedule import claim

logger = logging.getLogger(__name__)

SCHEDULER_TICK = 5.0


class EmbeddedRunner:
    """A thread that runs named tasks when they fall due."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self, periodic: bool = True) -> None:
        """Start the worker thread, and the scheduler of periodic jobs."""
        with self._wake:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._work, name="trellis-tasks", daemon=True
            )
            self._thread.start()
        if periodic:
            threading.Thread(
                target=self._schedule, name="trellis-scheduler", daemon=True
            ).start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def submit(self, name: str, delay: float = 0.0) -> None:
        """Run the task after `delay` seconds; a copy already waiting absorbs it."""
        self.start()
        due = time.monotonic() + delay
        with self._wake:
            waiting = self._due.get(name)
            if waiting is not None and waiting <= due:
                return
            self._due[name] = due
            heapq.heappush(self._queue, (due, next(self._counter), name))
            self._wake.notify()

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = (
                        self._queue[0][0] - time.monotonic() if self._queue else None
                    )
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                due, _, name = heapq.heappop(self._queue)
                if self._due.get(name) == due:
                    del self._due[name]
            run_task_on_worker(name)

    def _schedule(self) -> None:
        while not self._stopping:
            for job in periodic_jobs():
                try:
                    if claim(job):
                        self.submit(job.name)
                except Exception:
                    logger.exception("could not claim periodic job job=%s", job.name)
            time.sleep(SCHEDULER_TICK)


runner = EmbeddedRunner()
