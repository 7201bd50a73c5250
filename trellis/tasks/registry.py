"""Background tasks and periodic jobs, registered once and run by either runner.

A domain declares its work in its own ``tasks.py`` with ``@background_task``
and ``@periodic_job``; the embedded runner and the Celery worker both run it
by name, so nothing else knows which runner is in use.
"""

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import close_old_connections

from trellis.core.errors import SecretsUnavailable

logger = logging.getLogger(__name__)

Work = Callable[[], object]


@dataclass(frozen=True)
class PeriodicJob:
    """Work that runs every `interval()` seconds, on one worker at a time."""

    name: str
    run: Work
    interval: Callable[[], float]


_tasks: dict[str, Work] = {}
_jobs: dict[str, PeriodicJob] = {}


def background_task(name: str) -> Callable[[Work], Work]:
    """Register a function as background work under a stable name."""

    def register(func: Work) -> Work:
        _tasks[name] = func
        return func

    return register


def periodic_job(name: str, interval: Callable[[], float]) -> Callable[[Work], Work]:
    """Register a function to run every `interval()` seconds."""

    def register(func: Work) -> Work:
        _tasks[name] = func
        _jobs[name] = PeriodicJob(name, func, interval)
        return func

    return register


def load_tasks() -> None:
    """Import the tasks module of every installed Trellis app."""
    for config in apps.get_app_configs():
        if config.name.startswith("trellis."):
            try:
                importlib.import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.tasks":
                    raise


def periodic_jobs() -> list[PeriodicJob]:
    """Every registered periodic job."""
    load_tasks()
    return list(_jobs.values())


def run_task(name: str) -> None:
    """Run registered work by name, logging rather than raising its failures."""
    load_tasks()
    func = _tasks.get(name)
    if func is None:
        logger.error("unknown background task task=%s", name)
        return
    started = time.monotonic()
    try:
        func()
    except SecretsUnavailable as exc:
        logger.error("background task failed task=%s reason=%s", name, exc)
    except Exception:
        logger.exception("background task failed task=%s", name)
    else:
        logger.debug(
            "background task done task=%s seconds=%.3f",
            name,
            time.monotonic() - started,
        )


def run_task_on_worker(name: str) -> None:
    """Run work on a worker thread or process, with fresh database connections."""
    close_old_connections()
    try:
        run_task(name)
    finally:
        close_old_connections()
