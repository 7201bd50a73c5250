"""Counting failures in fixed time windows, shared by every web worker.

Counters live in Django's cache (Redis, or Trellis's database cache), whose
increment is atomic. A window is the `number`-th span of `seconds` since
1970: counting starts afresh whenever the clock passes a multiple of it.
"""

import ipaddress
from dataclasses import dataclass

from django.core.cache import cache

# IPv6 clients are counted per /64: one subscriber usually holds a whole /64
# and could otherwise rotate through addresses without end.
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Window:
    """One fixed counting window of one kind of failure (`name`)."""

    name: str
    number: int
    seconds: int

    @classmethod
    def at(cls, name: str, seconds: int, now: float) -> "Window":
        return cls(name, int(now // seconds), seconds)

    @property
    def start(self) -> float:
        return float(self.number * self.seconds)

    def previous(self) -> "Window":
        return Window(self.name, self.number - 1, self.seconds)

    def seconds_left(self, now: float) -> int:
        return max(1, int(self.start + self.seconds - now + 0.999))

    def key(self, *parts: str) -> str:
        return ":".join([self.name, str(self.seconds), str(self.number), *parts])

    @property
    def lifetime(self) -> int:
        # Long enough for a summary of the window to read it after it ends.
        return 3 * self.seconds

    def increment(self, *parts: str) -> int:
        """Add one to the counter named by `parts`; answer its new value."""
        key = self.key(*parts)
        # incr is atomic in every cache Trellis uses; add creates the counter
        # only if no other worker has just done so.
        try:
            return int(cache.incr(key))
        except ValueError:
            if cache.add(key, 1, self.lifetime):
                return 1
            return int(cache.incr(key))

    def count(self, *parts: str) -> int:
        return int(cache.get(self.key(*parts), 0))


def address_key(address: str | None) -> str:
    """Answer what failures from `address` are counted under."""
    if not address:
        return "unknown"
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def past(count: int, limit: int) -> bool:
    """Answer whether `count` is over `limit`; a limit of 0 means no limit."""
    return bool(limit) and count > limit
