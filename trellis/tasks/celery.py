"""The Celery application, for deployments with a broker (Redis or RabbitMQ).

Run a worker with ``celery -A trellis.tasks.celery worker --beat``. Every
Trellis task runs through the one Celery task ``trellis.run``, by name.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from trellis.tasks.registry import periodic_jobs, run_task_on_worker  # noqa: E402
from trellis.tasks.schedule import claim  # noqa: E402

app = Celery("trellis", broker=settings.TRELLIS_TASK_BROKER_URL or None)
app.conf.update(
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
    task_default_queue=settings.TRELLIS_TASK_QUEUE,
    beat_schedule={
        job.name: {
            "task": "trellis.periodic",
            "schedule": job.interval(),
            "args": [job.name],
        }
        for job in periodic_jobs()
    },
)


@app.task(name="trellis.run")
def run(name: str) -> None:
    """Run registered work by name."""
    run_task_on_worker(name)


@app.task(name="trellis.periodic")
def periodic(name: str) -> None:
    """Run a periodic job if no other worker has it this round."""
    for job in periodic_jobs():
        if job.name == name and claim(job):
            run_task_on_worker(name)
