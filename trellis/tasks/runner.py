"""Handing work to the background: Celery with a broker, else the embedded runner."""

from django.conf import settings


def run_soon(name: str, delay: float = 0.0) -> None:
    """Run the registered task `name` in the background after `delay` seconds."""
    if settings.TRELLIS_TASKS_EAGER:
        from trellis.tasks.registry import run_task

        run_task(name)
    elif settings.TRELLIS_TASK_BROKER_URL:
        from trellis.tasks.celery import app

        app.send_task("trellis.run", args=[name], countdown=delay)
    else:
        from trellis.tasks.embedded import runner

        runner.submit(name, delay)
