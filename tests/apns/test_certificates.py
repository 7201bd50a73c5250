from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from tests.support.certificates import DEFAULT_TOPIC, push_pair, rsa_key
from trellis.apns.certificates import (
    PushCertificateError,
    create_signing_request,
    read_pkcs12,
    read_push_identity,
)


def test_a_valid_pair_gives_its_topic_and_expiry() -> None:
    pair = push_pair()
    identity = read_push_identity(pair.certificate_pem, pair.key_pem)
    assert identity.topic == DEFAULT_TOPIC
    assert identity.not_after == pair.certificate.not_valid_after_utc


def test_a_key_of_another_certificate_is_refused() -> None:
    pair = push_pair()
    other = push_pair(key=rsa_key())
    with pytest.raises(PushCertificateError, match="does not belong"):
        read_push_identity(pair.certificate_pem, other.key_pem)


@pytest.mark.parametrize("topic", [None, "com.example.not-mdm"])
def test_a_certificate_that_is_not_for_mdm_is_refused(topic: str | None) -> None:
    pair = push_pair(topic=topic)
    with pytest.raises(PushCertificateError, match="not an MDM push certificate"):
        read_push_identity(pair.certificate_pem, pair.key_pem)


def test_an_expired_certificate_is_refused() -> None:
    pair = push_pair(valid_from=timedelta(days=-400), valid_for=timedelta(days=365))
    with pytest.raises(PushCertificateError, match="expired"):
        read_push_identity(pair.certificate_pem, pair.key_pem)


@pytest.mark.parametrize(
    ("certificate", "key", "message"),
    [
        ("garbage", None, "not a readable PEM certificate"),
        (None, "garbage", "not a readable PEM key"),
    ],
)
def test_unreadable_input_is_named(certificate, key, message) -> None:
    pair = push_pair()
    with pytest.raises(PushCertificateError, match=message):
        read_push_identity(certificate or pair.certificate_pem, key or pair.key_pem)


def test_a_signing_request_keeps_a_key_that_matches_its_csr() -> None:
    request = create_signing_request("Example MDM", "it@example.org")
    csr = x509.load_pem_x509_csr(request.csr_pem.encode())
    key = serialization.load_pem_private_key(request.private_key_pem.encode(), None)

    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()
    assert "it@example.org" in csr.subject.rfc4514_string()


def test_pkcs12_files_are_read_with_their_passphrase() -> None:

    pair = push_pair()
    blob = pkcs12.serialize_key_and_certificates(
        b"push", pair.key, pair.certificate, None, BestAvailableEncryption(b"s3cret")
    )

    certificate_pem, key_pem = read_pkcs12(blob, "s3cret")
    assert read_push_identity(certificate_pem, key_pem).topic == DEFAULT_TOPIC
    with pytest.raises(PushCertificateError, match="passphrase is wrong"):
        read_pkcs12(blob, "wrong")


def test_a_certificate_not_yet_valid_is_refused() -> None:
    pair = push_pair(valid_from=timedelta(days=300))
    with pytest.raises(PushCertificateError, match="not valid before"):
        read_push_identity(pair.certificate_pem, pair.key_pem)


def test_an_absurd_topic_is_refused() -> None:
    pair = push_pair(topic="com.apple.mgmt." + "x" * 300)
    with pytest.raises(PushCertificateError, match="not a plausible MDM topic"):
        read_push_identity(pair.certificate_pem, pair.key_pem)
