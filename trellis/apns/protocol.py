"""The APNs provider API as MDM uses it: requests, answers and what they mean.

Pure; no Django. Outcomes are decided by the JSON ``reason`` APNs answers,
not by message text, and only then by the status code.
"""

import json
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    DELIVERED = "delivered"
    TOKEN_INVALID = "token_invalid"
    CERTIFICATE_ERROR = "certificate_error"
    RETRY = "retry"
    REJECTED = "rejected"


# Reasons that say this device token will never work again.
TOKEN_REASONS = frozenset({"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"})

# Reasons that say the push certificate is the problem.
CERTIFICATE_REASONS = frozenset(
    {"BadCertificate", "BadCertificateEnvironment", "Forbidden", "ExpiredProviderToken"}
)

# Reasons worth trying again, after a pause.
RETRY_REASONS = frozenset(
    {"TooManyRequests", "InternalServerError", "ServiceUnavailable", "Shutdown"}
)


@dataclass(frozen=True)
class Notification:
    """One MDM push: wake this device so that it connects."""

    device_id: int
    token: str
    topic: str
    push_magic: str

    @property
    def path(self) -> str:
        return f"/3/device/{self.token}"

    def body(self) -> bytes:
        """The payload, exactly ``{"mdm":"<PushMagic>"}``."""
        return json.dumps({"mdm": self.push_magic}, separators=(",", ":")).encode()

    def headers(self, expiration: int) -> dict[str, str]:
        return {
            "apns-topic": self.topic,
            "apns-push-type": "mdm",
            # Immediate delivery: the device must connect now.
            "apns-priority": "10",
            # Kept by APNs for an offline device until then (UNIX seconds).
            "apns-expiration": str(expiration),
        }


@dataclass(frozen=True)
class PushResult:
    """What APNs answered to one notification."""

    notification: Notification
    status: int
    reason: str = ""
    apns_id: str = ""

    @property
    def outcome(self) -> Outcome:
        return classify(self.status, self.reason)


def classify(status: int, reason: str) -> Outcome:
    """Decide what an answer means; status 0 stands for no answer at all."""
    if status == 200:
        return Outcome.DELIVERED
    if reason in TOKEN_REASONS:
        return Outcome.TOKEN_INVALID
    if reason in CERTIFICATE_REASONS or status == 403:
        return Outcome.CERTIFICATE_ERROR
    if reason in RETRY_REASONS or status in (0, 429) or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECTED


def read_reason(body: bytes) -> str:
    """The ``reason`` of an APNs error body, or '' if it has none."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return ""
    reason = document.get("reason") if isinstance(document, dict) else None
    return reason if isinstance(reason, str) else ""


def backoff(attempt: int, base: float = 0.5, ceiling: float = 8.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …)."""
    return min(ceiling, base * 2 ** (attempt - 1))
