from types import SimpleNamespace

import pytest
from django.test import override_settings

from trellis.audit.models import AuditEvent
from trellis.enrollment import throttle
from trellis.tasks import registry

pytestmark = pytest.mark.django_db


@override_settings(TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS=60)
def test_the_summary_runs_twice_a_window_and_sums_up_the_last_one(
    monkeypatch,
) -> None:
    clock = SimpleNamespace(time=lambda: 6e8 + 10)
    monkeypatch.setattr(throttle, "time", clock)
    job = {job.name: job for job in registry.periodic_jobs()}[
        "enrollment.summarize_code_failures"
    ]
    assert job.interval() == 30

    throttle.count_failed_entry("198.51.100.7")
    job.run()
    assert not AuditEvent.objects.filter(action="portal.code_failures").exists()

    clock.time = lambda: 6e8 + 70
    job.run()
    job.run()
    summary = AuditEvent.objects.get(action="portal.code_failures")
    assert summary.detail["failures"] == 1
