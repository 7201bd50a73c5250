"""A classroom enrolls from one address while that address floods the portal.

Against Trellis started with `make run`: real gunicorn workers sharing their
counters through the database cache (the default), and through Redis.
"""

import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from tests.support.server import RunningServer, open_for_enrollment, running_server

DEVICES = 30
WRONG_CODES = 1000
PER_ADDRESS = 10
WINDOW = 3600
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@pytest.fixture(scope="module", params=["database", "redis"])
def server(request, tmp_path_factory, apns_standin) -> Iterator[RunningServer]:
    settings = {
        "TRELLIS_PORTAL_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
        "TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS": str(WINDOW),
    }
    with (
        _cache(request.param) as cache_settings,
        running_server(
            tmp_path_factory.mktemp(f"load-{request.param}"),
            apns_standin.url,
            apns_standin.ca_file,
            extra_env=settings | cache_settings,
        ) as started,
    ):
        yield started


@contextmanager
def _cache(kind: str) -> Iterator[dict[str, str]]:
    """Settings for the cache, and a Redis left as it was found."""
    if kind == "database":
        yield {}
        return
    import redis

    url = f"redis://127.0.0.1:6379/{random.randint(1, 15)}"
    prefix = f"trellis-load-{secrets.token_hex(6)}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis on 127.0.0.1:6379 is needed: {exc}")
    try:
        yield {"TRELLIS_CACHE_URL": url, "TRELLIS_CACHE_KEY_PREFIX": prefix}
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def code(server: RunningServer, apns_standin) -> str:
    blueprint = open_for_enrollment(server, "Classroom", trust=apns_standin)
    return blueprint["enrollment_code"]


def _wrong_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


class Flood:
    """Posts wrong codes to the portal from many threads, recording the answers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: Counter[int | str] = Counter()
        self.throttled = threading.Event()
        self.started = self.finished = 0.0

    def run(self) -> None:
        self.started = time.monotonic()
        limits = httpx.Limits(max_connections=32)
        with (
            httpx.Client(timeout=60, limits=limits) as client,
            ThreadPoolExecutor(max_workers=32) as pool,
        ):
            for status in pool.map(lambda _: self._post(client), range(WRONG_CODES)):
                self.statuses[status] += 1
        self.finished = time.monotonic()

    def _post(self, client: httpx.Client) -> int | str:
        try:
            response = client.post(self.url, data={"code": _wrong_code()})
        except httpx.HTTPError as exc:
            return type(exc).__name__
        if response.status_code == 429:
            self.throttled.set()
        return response.status_code


def test_a_classroom_enrolls_while_its_address_is_throttled(
    server: RunningServer, code: str
) -> None:
    flood = Flood(f"{server.url}/enroll")
    window_before = time.time() // WINDOW
    flooding = threading.Thread(target=flood.run)
    flooding.start()
    assert flood.throttled.wait(30), f"never throttled: {flood.statuses}"

    started = time.monotonic()
    result = server.manage(
        "simulate_devices",
        *("--portal", f"{server.url}/enroll", "--code", code),
        *("--count", str(DEVICES), "--concurrency", str(DEVICES), "--json"),
    )
    enrolled = time.monotonic()
    flooding.join()
    crossed_windows = time.time() // WINDOW != window_before

    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert len(outcomes) == DEVICES
    assert [o["error"] for o in outcomes] == [None] * DEVICES
    with server.api() as api:
        assert api.get("/devices/").json()["count"] == DEVICES
    assert flood.started < started < flood.finished, "the two must overlap"

    assert set(flood.statuses) == {200, 429}, flood.statuses
    assert sum(flood.statuses.values()) == WRONG_CODES
    # Counting is atomic across the workers: exactly the limit gets through,
    # or twice that when the run happened to straddle two windows.
    expected = PER_ADDRESS * (2 if crossed_windows else 1)
    assert flood.statuses[200] == expected, flood.statuses

    _assert_audited(server)
    log = server.log.read_text()
    assert '" 500 ' not in log and "Traceback" not in log

    print(
        f"\n{DEVICES} devices enrolled in {enrolled - started:.1f} s; "
        f"{WRONG_CODES} wrong codes in {flood.finished - flood.started:.1f} s "
        f"({dict(flood.statuses)})"
    )


def _assert_audited(server: RunningServer) -> None:
    result = server.manage(
        "shell",
        "-c",
        "from trellis.audit.models import AuditEvent; import json; print(json.dumps("
        "[e.detail for e in AuditEvent.objects.filter(action='portal.throttled')]))",
    )
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout.splitlines()[-1])
    assert {event["scope"] for event in events} == {"address", "portal"}
    assert {e.get("address") for e in events if e["scope"] == "address"} == {
        "127.0.0.1"
    }
