"""Claiming periodic jobs so that one worker among many runs each."""

import contextlib
from datetime import timedelta

from django.db import IntegrityError
from django.utils import timezone

from trellis.tasks.models import ScheduledJob
from trellis.tasks.registry import PeriodicJob


def claim(job: PeriodicJob) -> bool:
    """Answer True to the one caller that may run the job now."""
    now = timezone.now()
    # Another worker may create the row at the same moment; either row will do.
    with contextlib.suppress(IntegrityError):
        ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    claimed = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=job.interval()), last_run_at=now
    )
    return claimed == 1
