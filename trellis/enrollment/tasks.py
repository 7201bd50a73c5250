"""Background work of the enrollment portal."""

from django.conf import settings

from trellis.enrollment.throttle import summarize_failures
from trellis.tasks.registry import periodic_job


# Twice a window, so that each finished window is summed up soon after it ends.
@periodic_job(
    "enrollment.summarize_code_failures",
    interval=lambda: settings.TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS / 2,
)
def summarize_code_failures() -> None:
    summarize_failures()
