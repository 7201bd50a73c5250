import json

import pytest

from trellis.apns.protocol import Notification, Outcome, backoff, classify, read_reason

NOTIFICATION = Notification(1, "ab" * 32, "com.apple.mgmt.External.x", "MAGIC-1")


def test_the_body_is_exactly_the_push_magic() -> None:
    assert NOTIFICATION.body() == b'{"mdm":"MAGIC-1"}'


def test_headers_name_the_topic_the_mdm_push_type_and_an_expiry() -> None:
    headers = NOTIFICATION.headers(expiration=1_900_000_000)
    assert headers == {
        "apns-topic": "com.apple.mgmt.External.x",
        "apns-push-type": "mdm",
        "apns-priority": "10",
        "apns-expiration": "1900000000",
    }
    assert NOTIFICATION.path == "/3/device/" + "ab" * 32


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (200, "", Outcome.DELIVERED),
        (400, "BadDeviceToken", Outcome.TOKEN_INVALID),
        (410, "Unregistered", Outcome.TOKEN_INVALID),
        (400, "DeviceTokenNotForTopic", Outcome.TOKEN_INVALID),
        (403, "BadCertificate", Outcome.CERTIFICATE_ERROR),
        (403, "BadCertificateEnvironment", Outcome.CERTIFICATE_ERROR),
        (429, "TooManyRequests", Outcome.RETRY),
        (500, "InternalServerError", Outcome.RETRY),
        (503, "ServiceUnavailable", Outcome.RETRY),
        (0, "ConnectError", Outcome.RETRY),
        (400, "BadTopic", Outcome.REJECTED),
        (413, "PayloadTooLarge", Outcome.REJECTED),
    ],
)
def test_outcomes_follow_the_reason(status: int, reason: str, outcome: Outcome) -> None:
    assert classify(status, reason) == outcome


def test_the_reason_decides_not_the_status() -> None:
    # A 400 that names an invalid token, and a 400 that does not.
    assert classify(400, "Unregistered") == Outcome.TOKEN_INVALID
    assert classify(400, "BadExpirationDate") == Outcome.REJECTED


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            json.dumps({"reason": "Unregistered", "timestamp": 1}).encode(),
            "Unregistered",
        ),
        (b"", ""),
        (b"not json", ""),
        (b"[1]", ""),
        (b'{"reason": 5}', ""),
    ],
)
def test_reading_reasons(body: bytes, reason: str) -> None:
    assert read_reason(body) == reason


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
