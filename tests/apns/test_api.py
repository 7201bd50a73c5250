import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID

from tests.support.certificates import DEFAULT_TOPIC, pem, push_pair, rsa_key
from trellis.apns.models import PushCertificate
from trellis.apns.services import install_push_certificate
from trellis.audit.models import AuditEvent

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


def _sign_csr(csr_pem: str, topic: str = DEFAULT_TOPIC) -> str:
    """Play Apple: issue a push certificate for the CSR's key."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    issuer = rsa_key()
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.USER_ID, topic)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple")]))
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(issuer, hashes.SHA256())
    )
    return pem(certificate)


def test_csr_then_signed_certificate_without_a_key(api) -> None:
    created = api.post("/api/v1/apns/csr/", {"email": "it@example.org"}, format="json")
    assert created.status_code == 201
    csr_pem = created.json()["csr"]
    assert csr_pem.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert "PRIVATE KEY" not in created.content.decode()
    assert api.get("/api/v1/apns/csr/").json()["csr"] == csr_pem

    installed = api.put(
        "/api/v1/apns/certificate/", {"certificate": _sign_csr(csr_pem)}, format="json"
    )

    assert installed.status_code == 200, installed.content
    assert installed.json()["topic"] == DEFAULT_TOPIC
    assert api.get("/api/v1/apns/csr/").status_code == 404  # the request was used


def test_a_certificate_for_a_key_trellis_never_made_needs_its_key(api) -> None:
    response = api.put(
        "/api/v1/apns/certificate/",
        {"certificate": push_pair().certificate_pem},
        format="json",
    )
    assert response.status_code == 400
    assert "No private key was given" in response.json()["detail"]


def test_an_unreadable_certificate_without_a_key_is_called_unreadable(api) -> None:
    api.post("/api/v1/apns/csr/", {}, format="json")
    response = api.put(
        "/api/v1/apns/certificate/", {"certificate": "not a certificate"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The certificate is not a readable PEM certificate."
    }


def test_a_csr_may_leave_the_email_blank(api) -> None:
    created = api.post("/api/v1/apns/csr/", {"email": ""}, format="json")
    assert created.status_code == 201, created.content


def test_pkcs12_upload(api) -> None:
    pair = push_pair()
    blob = pkcs12.serialize_key_and_certificates(
        b"push", pair.key, pair.certificate, None, BestAvailableEncryption(b"pw")
    )
    response = api.put(
        "/api/v1/apns/certificate/",
        {"pkcs12": base64.b64encode(blob).decode(), "passphrase": "pw"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["topic"] == DEFAULT_TOPIC


def test_another_topic_is_refused_while_devices_use_the_current_one(
    api, devices
) -> None:
    devices.enrolled()
    devices.enrolled()
    other_topic = "com.apple.mgmt.External.another-apple-id"
    other = push_pair(topic=other_topic)
    upload = {"certificate": other.certificate_pem, "private_key": other.key_pem}

    refused = api.put("/api/v1/apns/certificate/", upload, format="json")

    assert refused.status_code == 409
    body = refused.json()
    assert body["devices"] == 2
    assert body["current_topic"] == DEFAULT_TOPIC
    assert "2 enrolled device(s)" in body["detail"]
    assert api.get("/api/v1/apns/certificate/").json()["topic"] == DEFAULT_TOPIC

    confirmed = api.put(
        "/api/v1/apns/certificate/",
        upload | {"confirm_topic_change": True},
        format="json",
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["topic"] == other_topic


def test_a_renewal_for_the_same_topic_takes_over_at_once(api, devices) -> None:
    devices.enrolled()
    renewed = push_pair(valid_for=timedelta(days=700))
    response = api.put(
        "/api/v1/apns/certificate/",
        {"certificate": renewed.certificate_pem, "private_key": renewed.key_pem},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["days_left"] >= 690
    assert AuditEvent.objects.filter(action="apns.certificate_renewed").exists()


def test_the_certificate_shows_days_left_and_a_warning_inside_30_days(api) -> None:
    pair = push_pair(valid_from=timedelta(days=-340), valid_for=timedelta(days=360))
    install_push_certificate(pair.certificate_pem, pair.key_pem)

    shown = api.get("/api/v1/apns/certificate/").json()

    assert shown["days_left"] == 19
    assert "expires on" in shown["warning"]
