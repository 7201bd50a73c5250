"""An in-memory APNs provider: records what it is asked to send, answers as scripted."""

from collections import defaultdict, deque
from collections.abc import Sequence

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
