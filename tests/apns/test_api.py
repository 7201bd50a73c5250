from datetime import timedelta

import pytest

from tests.support.certificates import DEFAULT_TOPIC, push_pair, rsa_key
from trellis.apns.models import PushCertificate

pytestmark = pytest.mark.django_db


def test_upload_answers_topic_and_expiry(api) -> None:
    pair = push_pair()
    response = api.put(
        "/api/v1/apns/certificate/",
        {"certificate": pair.certificate_pem, "private_key": pair.key_pem},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["topic"] == DEFAULT_TOPIC
    assert response.json()["not_after"].startswith(
        pair.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M")
    )
    shown = api.get("/api/v1/apns/certificate/").json()
    assert shown["topic"] == DEFAULT_TOPIC and shown["valid"] is True
    assert "private_key" not in shown


def test_mismatched_key_is_a_clear_400_and_stores_nothing(api) -> None:
    pair = push_pair()
    response = api.put(
        "/api/v1/apns/certificate/",
        {
            "certificate": pair.certificate_pem,
            "private_key": push_pair(key=rsa_key()).key_pem,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The private key does not belong to this certificate."
    }
    assert not PushCertificate.objects.exists()


def test_expired_upload_is_refused(api) -> None:
    pair = push_pair(valid_from=timedelta(days=-30), valid_for=timedelta(days=10))
    response = api.put(
        "/api/v1/apns/certificate/",
        {"certificate": pair.certificate_pem, "private_key": pair.key_pem},
        format="json",
    )
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


def test_no_certificate_yet_is_404(api) -> None:
    assert api.get("/api/v1/apns/certificate/").status_code == 404
