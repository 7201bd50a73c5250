"""Background work through Celery with real brokers: Redis and RabbitMQ.

Trellis runs with `make run` and a broker set; a Celery worker (with beat)
runs beside it. An enrollment must lead to a push that only the worker sends.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apns_standin import ApnsStandIn
from tests.support.server import (
    ROOT,
    RunningServer,
    open_for_enrollment,
    running_server,
)

pytestmark = [pytest.mark.thirdparty]

BROKERS = {
    "redis": ("redis://127.0.0.1:6379/{db}", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(params=sorted(BROKERS))
def celery_deployment(
    request, tmp_path: Path, apns_standin: ApnsStandIn
) -> Iterator[tuple[RunningServer, Path]]:
    template, port = BROKERS[request.param]
    if not _listening(port):
        pytest.fail(
            f"{request.param} is not running on 127.0.0.1:{port} (.ci/run starts it)"
        )
    broker = template.format(db=secrets.randbelow(14) + 1)
    queue = f"trellis-test-{secrets.token_hex(4)}"
    extra = {"TRELLIS_TASK_BROKER_URL": broker, "TRELLIS_TASK_QUEUE": queue}
    with running_server(
        tmp_path / "data", apns_standin.url, apns_standin.ca_file, extra
    ) as server:
        log = tmp_path / "worker.log"
        with open(log, "w") as output:
            worker = subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/celery"),
                    "-A",
                    "trellis.tasks.celery",
                    "worker",
                    "--beat",
                    "--schedule",
                    str(tmp_path / "beat-schedule"),
                    "--pool",
                    "threads",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                    "--queues",
                    queue,
                    # A node name of its own: workers of other test runs on
                    # this broker would otherwise hold the same control queue.
                    "--hostname",
                    f"{queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=server.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield server, log
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


def test_an_enrollment_is_pushed_by_the_celery_worker(
    celery_deployment, apns_standin
) -> None:
    server, worker_log = celery_deployment
    blueprint = open_for_enrollment(server, "Celery", trust=apns_standin)

    result = server.manage(
        "simulate_devices",
        "--portal",
        f"{server.url}/enroll",
        "--code",
        blueprint["enrollment_code"],
        "--count",
        "3",
    )
    assert result.returncode == 0, result.stdout + result.stderr

    deadline = time.monotonic() + 60
    rows: list[dict] = []
    while time.monotonic() < deadline:
        with server.api() as api:
            rows = api.get("/devices/", params={"blueprint": blueprint["id"]}).json()[
                "results"
            ]
        if len(rows) == 3 and all(r["last_push_outcome"] == "delivered" for r in rows):
            break
        time.sleep(0.5)
    assert [r["last_push_outcome"] for r in rows] == ["delivered"] * 3, (
        worker_log.read_text()
    )

    log = worker_log.read_text()
    assert "trellis.run" in log
    assert "Traceback" not in log
    assert "background task" not in server.log.read_text(), (
        "the web workers ran no background work"
    )
