"""Answering SCEP operations with Trellis's CA and enrollment sessions."""

import logging

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction

from trellis.core.errors import BadMessage
from trellis.enrollment.services import consume_challenge, live_session_for_challenge
from trellis.pki.authority import CertificateAuthority, get_authority
from trellis.pki.models import IssuedCertificate
from trellis.scep.protocol import (
    FailInfo,
    MessageType,
    PKIMessage,
    ScepError,
    build_failure,
    build_success,
    challenge_password,
    read_certificate_request,
    read_pki_message,
)

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("trellis.security")

MIN_RSA_BITS = 2048


class _Refused(Exception):
    """The request is readable but gets no certificate."""

    def __init__(self, fail_info: str, reason: str) -> None:
        super().__init__(reason)
        self.fail_info = fail_info
        self.reason = reason


def answer_pki_operation(der: bytes) -> bytes:
    """Answer a pkiMessage with a CertRep; raise BadMessage if it is unreadable."""
    authority = get_authority()
    try:
        request = read_pki_message(der)
    except ScepError as exc:
        raise BadMessage(f"unreadable pkiMessage: {exc}") from exc

    try:
        return _issue(request, authority)
    except _Refused as refusal:
        security_logger.warning(
            "scep request refused transaction_id=%s reason=%s",
            request.transaction_id,
            refusal.reason,
        )
        return build_failure(
            request, refusal.fail_info, authority.certificate, authority.key
        )


def _issue(request: PKIMessage, authority: CertificateAuthority) -> bytes:
    if request.message_type != MessageType.PKCS_REQ:
        raise _Refused(
            FailInfo.BAD_REQUEST, f"unsupported message type {request.message_type}"
        )
    if not isinstance(request.signer.public_key(), rsa.RSAPublicKey):
        # The answer is encrypted to the signer's key, which only RSA can take.
        raise _Refused(FailInfo.BAD_ALG, "the request is not signed with an RSA key")
    try:
        csr, cipher = read_certificate_request(
            request, authority.certificate, authority.key
        )
    except ScepError as exc:
        raise _Refused(FailInfo.BAD_MESSAGE_CHECK, str(exc)) from exc
    _check_public_key(csr)
    challenge = challenge_password(csr)
    if not challenge:
        raise _Refused(FailInfo.BAD_REQUEST, "no challenge password")
    return _issue_with_challenge(request, csr, challenge, cipher, authority)


@transaction.atomic
def _issue_with_challenge(
    request: PKIMessage,
    csr: x509.CertificateSigningRequest,
    challenge: str,
    cipher: str,
    authority: CertificateAuthority,
) -> bytes:
    # The answer is built inside the transaction: if it cannot be built,
    # the certificate is not recorded and the challenge is not spent.
    session = live_session_for_challenge(challenge)
    if session is None:
        raise _Refused(
            FailInfo.BAD_REQUEST, "unknown, used, expired or revoked challenge"
        )

    subject = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, settings.TRELLIS_ORGANIZATION
            ),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"Trellis device identity {session.id}"
            ),
        ]
    )
    certificate = authority.issue_device_certificate(
        csr.public_key(), subject, settings.TRELLIS_DEVICE_CERT_DAYS
    )
    issued = IssuedCertificate.from_certificate(certificate)
    issued.save()
    if not consume_challenge(session, issued):
        # Another request spent the challenge first; raising undoes this issuance.
        raise _Refused(FailInfo.BAD_REQUEST, "challenge already used")
    answer = build_success(
        request, certificate, cipher, authority.certificate, authority.key
    )
    logger.info(
        "device certificate issued enrollment_session=%s serial=%s",
        session.id,
        issued.serial_number,
    )
    return answer


def _check_public_key(csr: x509.CertificateSigningRequest) -> None:
    public_key = csr.public_key()
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= MIN_RSA_BITS:
        return
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return
    raise _Refused(
        FailInfo.BAD_ALG, "the requested key is too weak or of an unknown type"
    )
