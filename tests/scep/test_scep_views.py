import base64
from datetime import timedelta

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client
from django.utils import timezone

from tests.support.ber import to_indefinite_ber
from tests.support.certificates import foreign_authority, rsa_key
from trellis.blueprints.services import change_code
from trellis.enrollment.models import EnrollmentSession
from trellis.pki.authority import get_authority
from trellis.pki.cms import sign_with_attributes, verify_signed_data
from trellis.pki.envelope import encrypt_enveloped
from trellis.pki.models import IssuedCertificate
from trellis.scep.client import (
    CertRep,
    PendingRequest,
    build_csr,
    build_pkcs_req,
    read_cert_rep,
    self_signed,
)
from trellis.scep.protocol import (
    OID_FAIL_INFO,
    OID_MESSAGE_TYPE,
    OID_PKI_STATUS,
    OID_SENDER_NONCE,
    OID_TRANSACTION_ID,
    FailInfo,
    PKIStatus,
    scep_attribute,
)

pytestmark = pytest.mark.django_db

SUBJECT = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test device")])


@pytest.fixture
def challenge(devices) -> str:
    return devices.new().profile.challenge


def _request(
    client: Client,
    challenge: str | None,
    method: str = "POST",
    cipher: str = "aes128_cbc",
    digest: str = "sha256",
) -> CertRep:
    ca = get_authority().certificate
    key = rsa_key()
    message, pending = build_pkcs_req(
        build_csr(key, SUBJECT, challenge), key, ca, cipher, digest
    )
    if method == "POST":
        response = client.post(
            "/scep?operation=PKIOperation",
            message,
            content_type="application/x-pki-message",
        )
    else:
        encoded = base64.b64encode(message).decode()
        response = client.get(f"/scep?operation=PKIOperation&message={encoded}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-pki-message"
    return read_cert_rep(response.content, pending, ca)


def test_get_ca_caps_lists_the_capabilities(client: Client) -> None:
    for query in ("", "&message=", "&message=CA%20name", "&message=%zz"):
        response = client.get(f"/scep?operation=GetCACaps{query}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode().split() == [
            "POSTPKIOperation",
            "SHA-256",
            "AES",
            "SCEPStandard",
        ]


def test_get_ca_cert_is_the_der_ca(client: Client) -> None:
    response = client.get("/scep?operation=GetCACert&message=whatever")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-x509-ca-cert"
    assert response.content == get_authority().certificate_der


@pytest.mark.parametrize(
    ("cipher", "digest"),
    [
        ("aes128_cbc", "sha256"),
        ("aes256_cbc", "sha256"),
        ("tripledes_3key", "sha1"),
        ("des", "sha1"),
        ("aes128_cbc", "sha1"),
    ],
)
def test_a_live_challenge_gets_a_certificate(
    client: Client, challenge: str, cipher: str, digest: str
) -> None:
    reply = _request(client, challenge, cipher=cipher, digest=digest)

    assert reply.status == PKIStatus.SUCCESS
    assert reply.certificate is not None
    assert get_authority().issued(reply.certificate)
    issued = IssuedCertificate.objects.get()
    session = EnrollmentSession.objects.get()
    assert session.certificate == issued
    assert session.status == EnrollmentSession.Status.CERTIFICATE_ISSUED
    assert str(session.id) in reply.certificate.subject.rfc4514_string()


def test_get_pki_operation_keeps_plus_signs(client: Client, devices) -> None:
    # Draw messages until one's base64 holds a "+", which form decoding
    # would turn into a space.
    for _ in range(40):
        challenge = devices.new().profile.challenge
        ca = get_authority().certificate
        key = rsa_key()
        message, pending = build_pkcs_req(build_csr(key, SUBJECT, challenge), key, ca)
        encoded = base64.b64encode(message).decode()
        if "+" in encoded:
            break
    else:
        pytest.fail("no base64 message with a plus sign was drawn")

    response = client.get(f"/scep?operation=PKIOperation&message={encoded}")

    assert response.status_code == 200
    assert read_cert_rep(response.content, pending, ca).status == PKIStatus.SUCCESS


def test_a_used_challenge_fails(client: Client, challenge: str) -> None:
    assert _request(client, challenge).status == PKIStatus.SUCCESS
    reply = _request(client, challenge)
    assert (reply.status, reply.fail_info) == (PKIStatus.FAILURE, FailInfo.BAD_REQUEST)
    assert IssuedCertificate.objects.count() == 1


@pytest.mark.parametrize("challenge_value", ["wrong", "", None])
def test_a_wrong_or_missing_challenge_fails(
    client: Client, challenge: str, challenge_value
) -> None:
    reply = _request(client, challenge_value, method="GET")
    assert (reply.status, reply.fail_info) == (PKIStatus.FAILURE, FailInfo.BAD_REQUEST)
    assert not IssuedCertificate.objects.exists()


def test_an_expired_challenge_fails(client: Client, challenge: str) -> None:
    EnrollmentSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    reply = _request(client, challenge)
    assert (reply.status, reply.fail_info) == (PKIStatus.FAILURE, FailInfo.BAD_REQUEST)


def test_a_profile_of_a_changed_code_fails(
    client: Client, challenge: str, blueprint
) -> None:
    change_code(blueprint)
    reply = _request(client, challenge)
    assert (reply.status, reply.fail_info) == (PKIStatus.FAILURE, FailInfo.BAD_REQUEST)
    assert not IssuedCertificate.objects.exists()


def test_a_request_encrypted_for_another_ca_fails_its_message_check(
    client: Client, challenge: str
) -> None:
    key = rsa_key()
    message, pending = build_pkcs_req(
        build_csr(key, SUBJECT, challenge), key, foreign_authority().certificate
    )
    response = client.post(
        "/scep?operation=PKIOperation",
        message,
        content_type="application/x-pki-message",
    )
    reply = read_cert_rep(response.content, pending, get_authority().certificate)
    assert (reply.status, reply.fail_info) == (
        PKIStatus.FAILURE,
        FailInfo.BAD_MESSAGE_CHECK,
    )


@pytest.mark.parametrize(
    "query",
    [
        "operation=PKIOperation&message=not-base64!!",
        "operation=PKIOperation&message=" + base64.b64encode(b"garbage").decode(),
        "operation=PKIOperation",
        "operation=Bogus",
        "",
    ],
)
def test_garbage_gets_400(client: Client, query: str) -> None:
    assert client.get(f"/scep?{query}").status_code == 400


@pytest.mark.parametrize(
    "body", [b"", b"\x30\x80\x00\x00", b"\x30" + b"\xff" * 50, b"hello"]
)
def test_garbage_posts_get_400(client: Client, body: bytes) -> None:
    response = client.post(
        "/scep?operation=PKIOperation", body, content_type="application/x-pki-message"
    )
    assert response.status_code == 400


def test_an_indefinite_length_ber_request_is_read(
    client: Client, challenge: str
) -> None:
    # As devices send it: the envelope and the pkiMessage around it in BER,
    # with indefinite lengths and the encrypted content in chunks.
    ca = get_authority().certificate
    key = rsa_key()
    csr = build_csr(key, SUBJECT, challenge)
    envelope = to_indefinite_ber(
        encrypt_enveloped(
            csr.public_bytes(serialization.Encoding.DER), ca, "aes256_cbc"
        )
    )
    signer = self_signed(key, SUBJECT)
    attributes = [
        scep_attribute(OID_MESSAGE_TYPE, core.PrintableString("19")),
        scep_attribute(OID_TRANSACTION_ID, core.PrintableString("BER-TEST")),
        scep_attribute(OID_SENDER_NONCE, core.OctetString(b"n" * 16)),
    ]
    message = to_indefinite_ber(
        sign_with_attributes(envelope, signer, key, "sha256", attributes)
    )
    assert message[1] == 0x80 and envelope[1] == 0x80

    response = client.post(
        "/scep?operation=PKIOperation",
        message,
        content_type="application/x-pki-message",
    )

    pending = PendingRequest(key, signer, "BER-TEST", b"n" * 16)
    reply = read_cert_rep(response.content, pending, ca)
    assert reply.status == PKIStatus.SUCCESS
    assert reply.certificate is not None


def _post(client: Client, message: bytes):
    return client.post(
        "/scep?operation=PKIOperation",
        message,
        content_type="application/x-pki-message",
    )


def _pkcs_req(challenge: str, signer_key, transaction_id: core.Asn1Value) -> bytes:
    ca = get_authority().certificate
    key = rsa_key()
    csr = build_csr(key, SUBJECT, challenge)
    envelope = encrypt_enveloped(csr.public_bytes(serialization.Encoding.DER), ca)
    signer = self_signed(signer_key, SUBJECT)
    attributes = [
        scep_attribute(OID_MESSAGE_TYPE, core.PrintableString("19")),
        scep_attribute(OID_TRANSACTION_ID, transaction_id),
        scep_attribute(OID_SENDER_NONCE, core.OctetString(b"n" * 16)),
    ]
    return sign_with_attributes(envelope, signer, signer_key, "sha256", attributes)


def test_an_ec_signed_request_is_refused_before_its_challenge_is_spent(
    client: Client, challenge: str
) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    response = _post(client, _pkcs_req(challenge, ec_key, core.PrintableString("EC")))

    assert response.status_code == 200
    signed = verify_signed_data(response.content)
    assert signed.signed_attributes[OID_PKI_STATUS] == PKIStatus.FAILURE
    assert signed.signed_attributes[OID_FAIL_INFO] == FailInfo.BAD_ALG
    assert not IssuedCertificate.objects.exists()
    assert _request(client, challenge).status == PKIStatus.SUCCESS


def test_a_transaction_id_that_is_not_printable_is_400_and_spends_nothing(
    client: Client, challenge: str
) -> None:
    message = _pkcs_req(challenge, rsa_key(), core.UTF8String("\u2603"))
    assert _post(client, message).status_code == 400
    assert _request(client, challenge).status == PKIStatus.SUCCESS
