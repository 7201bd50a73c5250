"""Counting wrong enrollment codes, per client address and across the portal.

Windows last TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS. Only wrong codes are
counted; valid downloads, SCEP and MDM traffic never touch these counters.
"""

import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from trellis.audit.models import AuditEvent
from trellis.audit.services import record_event
from trellis.core.counting import Window, address_key, past
from trellis.enrollment.models import EnrollmentPortal

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("trellis.security")

# Addresses crossing their limit get an audit event each, up to this many per
# window; the window's summary counts the rest. An attack from thousands of
# addresses must not bury the audit trail under its own events.
MAX_ADDRESS_EVENTS = 20

WINDOW_NAME = "portal-failures"


def _window(now: float) -> Window:
    return Window.at(WINDOW_NAME, settings.TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS, now)


def count_failed_entry(address: str | None, now: float | None = None) -> int | None:
    """Count a wrong code from `address`; answer the seconds to wait past a limit."""
    now = time.time() if now is None else now
    window = _window(now)
    source = address_key(address)

    from_address = window.increment("address", source)
    if from_address == 1:
        window.increment("addresses")
    total = window.increment("total")

    per_address = settings.TRELLIS_PORTAL_FAILURES_PER_ADDRESS
    per_portal = settings.TRELLIS_PORTAL_FAILURES_TOTAL
    # Exactly one request sees each count, so each crossing is recorded once.
    if per_address and from_address == per_address + 1:
        _record_address_throttled(window, source, per_address)
    if per_portal and total == per_portal + 1:
        _record_portal_throttled(window, per_portal)

    if past(from_address, per_address) or past(total, per_portal):
        return window.seconds_left(now)
    return None


def summarize_failures(now: float | None = None) -> AuditEvent | None:
    """Record how many wrong codes the last finished window saw, once."""
    window = _window(time.time() if now is None else now).previous()
    if not cache.add(window.key("summarized"), 1, window.lifetime):
        return None
    failures = window.count("total")
    if not failures:
        return None
    return record_event(
        "portal.code_failures",
        EnrollmentPortal.load(),
        failures=failures,
        addresses=window.count("addresses"),
        throttled_addresses=window.count("throttled"),
        window_start=_iso(window.start),
        window_end=_iso(window.start + window.seconds),
    )


def _record_address_throttled(window: Window, source: str, limit: int) -> None:
    security_logger.warning(
        "enrollment codes throttled address=%s limit=%s window_seconds=%s",
        source,
        limit,
        window.seconds,
    )
    if window.increment("throttled") <= MAX_ADDRESS_EVENTS:
        record_event(
            "portal.throttled",
            EnrollmentPortal.load(),
            scope="address",
            address=source,
            limit=limit,
            window_seconds=window.seconds,
            window_start=_iso(window.start),
        )


def _record_portal_throttled(window: Window, limit: int) -> None:
    security_logger.warning(
        "enrollment codes throttled scope=portal limit=%s window_seconds=%s",
        limit,
        window.seconds,
    )
    record_event(
        "portal.throttled",
        EnrollmentPortal.load(),
        scope="portal",
        limit=limit,
        window_seconds=window.seconds,
        window_start=_iso(window.start),
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()
