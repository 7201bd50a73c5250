import pytest
from django.test import override_settings

from trellis.audit.models import AuditEvent
from trellis.enrollment import throttle
from trellis.enrollment.throttle import (
    address_key,
    count_failed_entry,
    summarize_failures,
)

pytestmark = pytest.mark.django_db

# The start of a 600-second window, so that tests know the time left in it.
START = 600.0 * 3_000_000


def _fail(times: int, address: str = "198.51.100.7", now: float = START) -> list:
    return [count_failed_entry(address, now=now) for _ in range(times)]


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=3)
def test_an_address_is_throttled_past_its_limit_until_the_window_ends() -> None:
    assert _fail(3) == [None, None, None]
    assert _fail(2, now=START + 100) == [500, 500]
    assert count_failed_entry("198.51.100.8", now=START + 100) is None

    assert count_failed_entry("198.51.100.7", now=START + 600) is None


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=0, TRELLIS_PORTAL_FAILURES_TOTAL=4
)
def test_the_whole_portal_is_throttled_past_its_limit() -> None:
    answers = [count_failed_entry(f"198.51.100.{i}", now=START + 10) for i in range(6)]
    assert answers == [None, None, None, None, 590, 590]


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=0, TRELLIS_PORTAL_FAILURES_TOTAL=0
)
def test_limits_of_zero_are_off() -> None:
    assert set(_fail(50)) == {None}


def test_ipv6_addresses_are_counted_per_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:bbbb::9") == address_key("2001:db8:1:2::1")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("198.51.100.7") == "198.51.100.7"
    assert address_key(None) == "unknown"


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=2, TRELLIS_PORTAL_FAILURES_TOTAL=5
)
def test_crossing_a_limit_is_audited_once_per_window() -> None:
    _fail(10, "198.51.100.7")
    _fail(10, "2001:db8:1:2::1")

    events = AuditEvent.objects.filter(action="portal.throttled").order_by("id")
    assert [e.detail["scope"] for e in events] == ["address", "portal", "address"]
    assert [e.detail.get("address") for e in events] == [
        "198.51.100.7",
        None,
        "2001:db8:1:2::/64",
    ]
    assert events[0].detail["limit"] == 2
    assert events[1].detail["limit"] == 5

    _fail(10, "198.51.100.7", now=START + 600)
    assert AuditEvent.objects.filter(action="portal.throttled").count() == 5


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=1, TRELLIS_PORTAL_FAILURES_TOTAL=0
)
def test_audit_events_for_addresses_are_capped_per_window(monkeypatch) -> None:
    monkeypatch.setattr(throttle, "MAX_ADDRESS_EVENTS", 3)
    for i in range(10):
        _fail(2, f"198.51.100.{i}")

    assert AuditEvent.objects.filter(action="portal.throttled").count() == 3

    summary = summarize_failures(now=START + 650)
    assert summary is not None
    assert summary.detail["throttled_addresses"] == 10


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=10)
def test_a_finished_window_is_summed_up_once() -> None:
    _fail(4, "198.51.100.7")
    _fail(1, "198.51.100.8")

    assert summarize_failures(now=START + 300) is None, "the window is not over"
    summary = summarize_failures(now=START + 900)
    assert summary is not None
    assert summary.action == "portal.code_failures"
    assert summary.detail["failures"] == 5
    assert summary.detail["addresses"] == 2
    assert summary.detail["throttled_addresses"] == 0
    assert summary.detail["window_start"].endswith("+00:00")

    assert summarize_failures(now=START + 1000) is None
    assert AuditEvent.objects.filter(action="portal.code_failures").count() == 1


def test_a_quiet_window_leaves_no_summary() -> None:
    assert summarize_failures(now=START + 900) is None
    assert not AuditEvent.objects.exists()
