"""Counting wrong enrollment codes, per client address and across the portal.

Counters live in Django's cache, so that every web worker adds to the same
counts. Windows are fixed: counting starts afresh whenever the clock passes a
multiple of TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS. Only wrong codes are
counted; valid downloads, SCEP and MDM traffic never touch these counters.
"""

import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from trellis.audit.models import AuditEvent
from trellis.audit.services import record_event
from trellis.enrollment.models import EnrollmentPortal

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("trellis.security")

# Addresses crossing their limit get an audit event each, up to this many per
# window; the window's summary counts the rest. An attack from thousands of
# addresses must not bury the audit trail under its own events.
MAX_ADDRESS_EVENTS = 20

# IPv6 clients are counted per /64: one subscriber usually holds a whole /64
# and could otherwise rotate through addresses without end.
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Window:
    """One fixed counting window: the `number`-th span of `seconds` since 1970."""

    number: int
    seconds: int

    @classmethod
    def at(cls, now: float) -> "Window":
        seconds = settings.TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS
        return cls(int(now // seconds), seconds)

    @property
    def start(self) -> float:
        return float(self.number * self.seconds)

    def previous(self) -> "Window":
        return Window(self.number - 1, self.seconds)

    def seconds_left(self, now: float) -> int:
        return max(1, int(self.start + self.seconds - now + 0.999))

    def key(self, *parts: str) -> str:
        return ":".join(
            ["portal-failures", str(self.seconds), str(self.number), *parts]
        )

    @property
    def lifetime(self) -> int:
        # Long enough for the summary of the window to read it after it ends.
        return 3 * self.seconds


def address_key(address: str | None) -> str:
    """Answer what failures from `address` are counted under."""
    if not address:
        return "unknown"
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def count_failed_entry(address: str | None, now: float | None = None) -> int | None:
    """Count a wrong code from `address`; answer the seconds to wait past a limit."""
    now = time.time() if now is None else now
    window = Window.at(now)
    source = address_key(address)

    from_address = _increment(window.key("address", source), window)
    if from_address == 1:
        _increment(window.key("addresses"), window)
    total = _increment(window.key("total"), window)

    per_address = settings.TRELLIS_PORTAL_FAILURES_PER_ADDRESS
    per_portal = settings.TRELLIS_PORTAL_FAILURES_TOTAL
    # Exactly one request sees each count, so each crossing is recorded once.
    if per_address and from_address == per_address + 1:
        _record_address_throttled(window, source, per_address)
    if per_portal and total == per_portal + 1:
        _record_portal_throttled(window, per_portal)

    if _past(from_address, per_address) or _past(total, per_portal):
        return window.seconds_left(now)
    return None


def summarize_failures(now: float | None = None) -> AuditEvent | None:
    """Record how many wrong codes the last finished window saw, once."""
    window = Window.at(time.time() if now is None else now).previous()
    if not cache.add(window.key("summarized"), 1, window.lifetime):
        return None
    failures = cache.get(window.key("total"), 0)
    if not failures:
        return None
    return record_event(
        "portal.code_failures",
        EnrollmentPortal.load(),
        failures=failures,
        addresses=cache.get(window.key("addresses"), 0),
        throttled_addresses=cache.get(window.key("throttled"), 0),
        window_start=_iso(window.start),
        window_end=_iso(window.start + window.seconds),
    )


def _increment(key: str, window: Window) -> int:
    # incr is atomic in every cache Trellis uses; add creates the counter
    # only if no other worker has just done so.
    try:
        return int(cache.incr(key))
    except ValueError:
        if cache.add(key, 1, window.lifetime):
            return 1
        return int(cache.incr(key))


def _past(count: int, limit: int) -> bool:
    return bool(limit) and count > limit


def _record_address_throttled(window: Window, source: str, limit: int) -> None:
    security_logger.warning(
        "enrollment codes throttled address=%s limit=%s window_seconds=%s",
        source,
        limit,
        window.seconds,
    )
    if _increment(window.key("throttled"), window) <= MAX_ADDRESS_EVENTS:
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
