"""SCEP messages (RFC 8894): reading a pkiMessage and answering with a CertRep.

Pure functions; no Django. A pkiMessage is SignedData whose signed
attributes carry the SCEP fields and whose content is EnvelopedData
holding the request (a PKCS#10 CSR for PKCSReq).
"""

import os
import re
from dataclasses import dataclass
from enum import IntEnum

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID

from trellis.pki.cms import (
    CMSError,
    sign_with_attributes,
    verify_signed_data,
)
from trellis.pki.envelope import decrypt_enveloped, encrypt_enveloped

_SCEP = "2.16.840.1.113733.1.9"
OID_MESSAGE_TYPE = f"{_SCEP}.2"
OID_PKI_STATUS = f"{_SCEP}.3"
OID_FAIL_INFO = f"{_SCEP}.4"
OID_SENDER_NONCE = f"{_SCEP}.5"
OID_RECIPIENT_NONCE = f"{_SCEP}.6"
OID_TRANSACTION_ID = f"{_SCEP}.7"

# PrintableString's characters; clients send hex or base64 identifiers.
TRANSACTION_ID = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]{1,128}")

CAPABILITIES = ("POSTPKIOperation", "SHA-256", "AES", "SCEPStandard")


class MessageType(IntEnum):
    CERT_REP = 3
    RENEWAL_REQ = 17
    PKCS_REQ = 19
    CERT_POLL = 20
    GET_CERT = 21
    GET_CRL = 22


class PKIStatus:
    SUCCESS = "0"
    FAILURE = "2"
    PENDING = "3"


class FailInfo:
    BAD_ALG = "0"
    BAD_MESSAGE_CHECK = "1"
    BAD_REQUEST = "2"
    BAD_TIME = "3"
    BAD_CERT_ID = "4"


class ScepError(ValueError):
    """The message is not a readable SCEP pkiMessage."""


@dataclass(frozen=True)
class PKIMessage:
    """A verified pkiMessage, its inner request still encrypted."""

    message_type: int
    transaction_id: str
    sender_nonce: bytes
    signer: x509.Certificate
    digest_algorithm: str
    envelope: bytes


def read_pki_message(der: bytes) -> PKIMessage:
    """Verify a pkiMessage's signature and read its SCEP attributes."""
    try:
        signed = verify_signed_data(der)
    except CMSError as exc:
        raise ScepError(str(exc)) from exc
    attributes = signed.signed_attributes
    try:
        message_type = int(str(attributes[OID_MESSAGE_TYPE]))
        transaction_id = attributes[OID_TRANSACTION_ID]
        sender_nonce = attributes.get(OID_SENDER_NONCE, b"")
    except (KeyError, ValueError) as exc:
        raise ScepError("missing or unreadable SCEP attributes") from exc
    if not isinstance(transaction_id, str) or not TRANSACTION_ID.fullmatch(
        transaction_id
    ):
        raise ScepError("the transactionID must be a short PrintableString")
    if not isinstance(sender_nonce, bytes) or len(sender_nonce) > 64:
        raise ScepError("the senderNonce must be a short OCTET STRING")
    return PKIMessage(
        message_type=message_type,
        transaction_id=transaction_id,
        sender_nonce=sender_nonce,
        signer=signed.signer,
        digest_algorithm=signed.digest_algorithm,
        envelope=signed.content or b"",
    )


def read_certificate_request(
    message: PKIMessage, certificate: x509.Certificate, key: rsa.RSAPrivateKey
) -> tuple[x509.CertificateSigningRequest, str]:
    """Decrypt a PKCSReq's CSR; answer it and the cipher the client chose."""
    try:
        plain, cipher = decrypt_enveloped(message.envelope, certificate, key)
    except CMSError as exc:
        raise ScepError(str(exc)) from exc
    try:
        csr = x509.load_der_x509_csr(plain)
        csr.public_key()
        valid = csr.is_signature_valid
    except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
        # InvalidVersion is no ValueError: a CSR of another version than 1
        # would otherwise escape as a server error.
        raise ScepError("the request is not a readable PKCS#10 CSR") from exc
    if not valid:
        raise ScepError("the CSR's signature does not verify")
    return csr, cipher


def challenge_password(csr: x509.CertificateSigningRequest) -> str | None:
    """Answer the CSR's challengePassword attribute, if it has one."""
    try:
        attribute = csr.attributes.get_attribute_for_oid(
            AttributeOID.CHALLENGE_PASSWORD
        )
    except x509.AttributeNotFound:
        return None
    except ValueError:
        # cryptography reads no attribute with several values (or a long-form
        # tag); such a request has no challenge Trellis can check.
        return None
    value = attribute.value
    try:
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)
    except UnicodeDecodeError:
        return None


def build_success(
    request: PKIMessage,
    issued: x509.Certificate,
    cipher: str,
    ca_certificate: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
) -> bytes:
    """Answer a CertRep carrying the issued certificate, encrypted to the requester."""
    degenerate = pkcs7.serialize_certificates([issued], serialization.Encoding.DER)
    envelope = encrypt_enveloped(degenerate, request.signer, cipher)
    attributes = _reply_attributes(request, PKIStatus.SUCCESS)
    return sign_with_attributes(
        envelope, ca_certificate, ca_key, _reply_digest(request), attributes
    )


def build_failure(
    request: PKIMessage,
    fail_info: str,
    ca_certificate: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
) -> bytes:
    """Answer a CertRep that refuses the request."""
    attributes = _reply_attributes(request, PKIStatus.FAILURE)
    attributes.append(scep_attribute(OID_FAIL_INFO, core.PrintableString(fail_info)))
    return sign_with_attributes(
        None, ca_certificate, ca_key, _reply_digest(request), attributes
    )


def _reply_digest(request: PKIMessage) -> str:
    # Answer in the digest the client used: it proved it can check that one.
    return (
        request.digest_algorithm
        if request.digest_algorithm in ("sha1", "sha256", "sha512")
        else "sha256"
    )


def _reply_attributes(request: PKIMessage, status: str) -> list[asn1_cms.CMSAttribute]:
    return [
        scep_attribute(
            OID_MESSAGE_TYPE, core.PrintableString(str(int(MessageType.CERT_REP)))
        ),
        scep_attribute(OID_PKI_STATUS, core.PrintableString(status)),
        scep_attribute(
            OID_TRANSACTION_ID, core.PrintableString(request.transaction_id)
        ),
        scep_attribute(OID_SENDER_NONCE, core.OctetString(os.urandom(16))),
        scep_attribute(OID_RECIPIENT_NONCE, core.OctetString(request.sender_nonce)),
    ]


def scep_attribute(oid: str, value: core.Asn1Value) -> asn1_cms.CMSAttribute:
    return asn1_cms.CMSAttribute({"type": oid, "values": [value]})
