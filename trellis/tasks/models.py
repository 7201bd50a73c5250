"""When each periodic job last ran, shared by every worker."""

from django.db import models


class ScheduledJob(models.Model):
    """A periodic job's next due time; claiming it is one conditional update."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
