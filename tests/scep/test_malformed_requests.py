"""Requests whose CSR is signed but malformed get a SCEP failure, never a 500."""

import pytest
from asn1crypto import algos, core
from asn1crypto import csr as asn1_csr
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import Client

from tests.support.certificates import rsa_key
from trellis.enrollment.models import EnrollmentSession
from trellis.pki.authority import get_authority
from trellis.pki.cms import sign_with_attributes
from trellis.pki.envelope import encrypt_enveloped
from trellis.pki.models import IssuedCertificate
from trellis.scep.client import PendingRequest, build_csr, read_cert_rep, self_signed
from trellis.scep.protocol import (
    OID_MESSAGE_TYPE,
    OID_SENDER_NONCE,
    OID_TRANSACTION_ID,
    FailInfo,
    PKIStatus,
    scep_attribute,
)

pytestmark = pytest.mark.django_db

SUBJECT = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "odd device")])


def _request_info(key, challenge: str, version: int = 0, values: int = 1):
    """A CertificationRequestInfo with a challenge of `values` values."""
    signed = build_csr(key, SUBJECT, challenge).tbs_certrequest_bytes
    info = asn1_csr.CertificationRequestInfo.load(signed)
    password = asn1_x509.DirectoryString(name="utf8_string", value=challenge)
    attribute = asn1_csr.CRIAttribute(
        {"type": "challenge_password", "values": [password] * values}
    )
    return asn1_csr.CertificationRequestInfo(
        {
            "version": version,
            "subject": info["subject"],
            "subject_pk_info": info["subject_pk_info"],
            "attributes": [attribute],
        }
    )


def _post_csr(client: Client, key, info) -> object:
    """Sign the CSR with its key, wrap it as a PKCSReq and post it."""
    signature = key.sign(info.dump(), padding.PKCS1v15(), hashes.SHA256())
    csr = asn1_csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": "sha256_rsa"}
            ),
            "signature": signature,
        }
    )
    ca = get_authority().certificate
    signer = self_signed(key, SUBJECT)
    attributes = [
        scep_attribute(OID_MESSAGE_TYPE, core.PrintableString("19")),
        scep_attribute(OID_TRANSACTION_ID, core.PrintableString("ODD-1")),
        scep_attribute(OID_SENDER_NONCE, core.OctetString(b"\x02" * 16)),
    ]
    envelope = encrypt_enveloped(csr.dump(), ca, "aes128_cbc")
    message = sign_with_attributes(envelope, signer, key, "sha256", attributes)
    response = client.post(
        "/scep?operation=PKIOperation",
        message,
        content_type="application/x-pki-message",
    )
    assert response.status_code == 200, response.content
    pending = PendingRequest(key, signer, "ODD-1", b"\x02" * 16)
    return read_cert_rep(response.content, pending, ca)


@pytest.mark.parametrize(
    ("version", "values", "fail_info"),
    [(64, 1, FailInfo.BAD_MESSAGE_CHECK), (0, 2, FailInfo.BAD_REQUEST)],
    ids=["csr-version-64", "two-challenge-values"],
)
def test_a_malformed_csr_fails_without_spending_the_challenge(
    client: Client, devices, version: int, values: int, fail_info: str
) -> None:
    challenge = devices.new().profile.challenge
    key = rsa_key()

    reply = _post_csr(client, key, _request_info(key, challenge, version, values))

    assert reply.status == PKIStatus.FAILURE
    assert reply.fail_info == fail_info
    assert not IssuedCertificate.objects.exists()
    session = EnrollmentSession.objects.get()
    assert session.status == EnrollmentSession.Status.DOWNLOADED
    # The same challenge still works in a well-formed request.
    good = _post_csr(client, key, _request_info(key, challenge))
    assert good.status == PKIStatus.SUCCESS
