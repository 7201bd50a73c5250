"""Push test helpers: an in-memory provider, and delivery to a local stand-in."""

from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from trellis.apns import delivery
from trellis.apns.protocol import Notification, PushResult
from trellis.apns.provider import PushCredentials


class FakeProvider:
    """A PushProvider that never touches the network."""

    def __init__(self) -> None:
        self.sent: list[tuple[PushCredentials, Notification]] = []
        self.calls = 0
        self._scripts: dict[str, deque[tuple[int, str]]] = defaultdict(deque)

    def script(self, token: str, *answers: tuple[int, str]) -> None:
        """Answer the next requests to this token with (status, reason), in order."""
        self._scripts[token].extend(answers)

    def send(
        self, credentials: PushCredentials, notifications: Sequence[Notification]
    ) -> list[PushResult]:
        self.calls += 1
        results = []
        for notification in notifications:
            self.sent.append((credentials, notification))
            answers = self._scripts.get(notification.token)
            status, reason = answers.popleft() if answers else (200, "")
            results.append(PushResult(notification, status, reason, "fake-id"))
        return results

    def tokens(self) -> list[str]:
        return [notification.token for _, notification in self.sent]


@contextmanager
def delivering_to(standin: Any, settings: Any) -> Iterator[None]:
    """Send this process's pushes to the stand-in, as soon as they are asked for."""
    settings.TRELLIS_APNS_URL = standin.url
    settings.TRELLIS_APNS_CA_FILE = standin.ca_file
    settings.TRELLIS_TASKS_EAGER = True
    try:
        yield
    finally:
        delivery.get_provider().close()  # type: ignore[attr-defined]
        delivery._provider.cache_clear()
