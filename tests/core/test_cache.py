"""The counters' contract, against the database cache and against Redis."""

import random
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings

REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": f"redis://127.0.0.1:6379/{random.randint(1, 15)}",
    "KEY_PREFIX": f"trellis-test-{secrets.token_hex(6)}",
}
DATABASE = {
    "BACKEND": "trellis.core.cache.DatabaseCache",
    "LOCATION": "trellis_cache",
}


@dataclass(frozen=True)
class Counters:
    backend: str
    prefix: str

    def key(self, n: int) -> str:
        return f"{self.prefix}-{n}"


@pytest.fixture(params=["database", "redis"])
def counters(request, transactional_db) -> Iterator[Counters]:
    backend = DATABASE if request.param == "database" else REDIS
    with override_settings(CACHES={"default": backend}):
        if request.param == "redis":
            _require_redis()
        chosen = Counters(request.param, f"counter-{secrets.token_hex(4)}")
        yield chosen
        cache.delete_many([chosen.key(i) for i in range(3)])


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS["LOCATION"], socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis on 127.0.0.1:6379 is needed: {exc}")


def test_a_missing_counter_cannot_be_incremented(counters: Counters) -> None:
    with pytest.raises(ValueError):
        cache.incr(counters.key(0))

    assert cache.add(counters.key(0), 1, 60)
    assert not cache.add(counters.key(0), 1, 60)
    assert cache.incr(counters.key(0)) == 2
    assert cache.incr(counters.key(0), 5) == 7
    assert cache.get(counters.key(0)) == 7


def test_incrementing_keeps_the_expiry(counters: Counters) -> None:
    key = counters.key(1)
    cache.add(key, 1, 2)
    assert cache.incr(key) == 2

    time.sleep(3.1)

    assert cache.get(key) is None
    with pytest.raises(ValueError):
        cache.incr(key)


def test_concurrent_increments_are_all_counted(counters: Counters) -> None:
    if counters.backend == "database" and connection.vendor == "sqlite":
        pytest.skip(
            "SQLite's in-memory test database fails lock waits at once; across "
            "processes on a SQLite file, the portal load test counts this"
        )
    key = counters.key(2)
    cache.add(key, 0, 60)

    def count(_: int) -> None:
        try:
            for _ in range(25):
                cache.incr(key)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(count, range(8)))

    assert cache.get(key) == 8 * 25
