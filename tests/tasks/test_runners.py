import threading

import pytest

from trellis.tasks import registry
from trellis.tasks.embedded import EmbeddedRunner
from trellis.tasks.registry import PeriodicJob, background_task, run_task
from trellis.tasks.schedule import claim

ran: list[str] = []
started = threading.Event()


@background_task("tests.record")
def record() -> None:
    ran.append("record")
    started.set()


@background_task("tests.explode")
def explode() -> None:
    raise RuntimeError("boom")


def test_run_task_runs_by_name_and_survives_failures(caplog) -> None:
    ran.clear()
    run_task("tests.record")
    run_task("tests.explode")
    run_task("tests.unknown")
    assert ran == ["record"]
    assert "background task failed task=tests.explode" in caplog.text
    assert "unknown background task task=tests.unknown" in caplog.text


def test_the_embedded_runner_runs_submitted_work_once() -> None:
    ran.clear()
    started.clear()
    runner = EmbeddedRunner()
    try:
        runner.submit("tests.record", delay=0.2)
        runner.submit("tests.record", delay=0.3)  # absorbed by the one waiting
        assert started.wait(5)
        threading.Event().wait(0.3)
    finally:
        runner.stop()
    assert ran == ["record"]


@pytest.mark.django_db
def test_only_one_claim_wins_a_round() -> None:
    job = PeriodicJob("tests.job", lambda: None, lambda: 60.0)
    assert claim(job) is True
    assert claim(job) is False


def test_every_app_registers_its_periodic_jobs() -> None:
    names = {job.name for job in registry.periodic_jobs()}
    assert {
        "apns.deliver_requested_pushes",
        "apns.repush_waiting_devices",
        "apns.warn_before_expiry",
        "mdm.mark_unresponsive_devices",
    } <= names
