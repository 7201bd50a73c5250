"""The client side of SCEP: the messages a device sends and reads back.

Used by the device simulator, and by tests to send the variants real
clients send (ciphers, digests, BER). Pure; no Django.
"""

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from trellis.pki.cms import (
    certificates_only,
    sign_with_attributes,
    verify_signed_data,
)
from trellis.pki.envelope import decrypt_enveloped, encrypt_enveloped
from trellis.scep.protocol import (
    OID_FAIL_INFO,
    OID_MESSAGE_TYPE,
    OID_PKI_STATUS,
    OID_RECIPIENT_NONCE,
    OID_SENDER_NONCE,
    OID_TRANSACTION_ID,
    MessageType,
    PKIStatus,
    ScepError,
    scep_attribute,
)


@dataclass(frozen=True)
class PendingRequest:
    """What the client keeps to read the server's answer."""

    key: rsa.RSAPrivateKey
    signer: x509.Certificate
    transaction_id: str
    sender_nonce: bytes


@dataclass(frozen=True)
class CertRep:
    """The server's answer, decrypted."""

    status: str
    fail_info: str | None
    certificate: x509.Certificate | None


def build_csr(
    key: rsa.RSAPrivateKey, subject: x509.Name, challenge: str | None
) -> x509.CertificateSigningRequest:
    """Build a PKCS#10 request with a challengePassword attribute."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if challenge is not None:
        builder = builder.add_attribute(
            x509.oid.AttributeOID.CHALLENGE_PASSWORD, challenge.encode()
        )
    return builder.sign(key, hashes.SHA256())


def build_pkcs_req(
    csr: x509.CertificateSigningRequest,
    key: rsa.RSAPrivateKey,
    ca_certificate: x509.Certificate,
    cipher: str = "aes128_cbc",
    digest: str = "sha256",
) -> tuple[bytes, PendingRequest]:
    """Build a PKCSReq pkiMessage, signed with a throwaway self-signed certificate."""
    signer = self_signed(key, csr.subject)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    transaction_id = hashlib.sha256(public_der).hexdigest().upper()
    sender_nonce = os.urandom(16)
    envelope = encrypt_enveloped(
        csr.public_bytes(serialization.Encoding.DER), ca_certificate, cipher
    )
    attributes = [
        scep_attribute(
            OID_MESSAGE_TYPE, core.PrintableString(str(int(MessageType.PKCS_REQ)))
        ),
        scep_attribute(OID_TRANSACTION_ID, core.PrintableString(transaction_id)),
        scep_attribute(OID_SENDER_NONCE, core.OctetString(sender_nonce)),
    ]
    message = sign_with_attributes(envelope, signer, key, digest, attributes)
    return message, PendingRequest(key, signer, transaction_id, sender_nonce)


def read_cert_rep(
    der: bytes, pending: PendingRequest, ca_certificate: x509.Certificate
) -> CertRep:
    """Verify a CertRep from the CA and decrypt the certificate it carries."""
    signed = verify_signed_data(der)
    if signed.signer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != ca_certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ScepError("the CertRep is not signed by the CA")
    attributes = signed.signed_attributes
    if str(attributes.get(OID_MESSAGE_TYPE)) != str(int(MessageType.CERT_REP)):
        raise ScepError("not a CertRep")
    if attributes.get(OID_TRANSACTION_ID) != pending.transaction_id:
        raise ScepError("the CertRep answers another transaction")
    if attributes.get(OID_RECIPIENT_NONCE) != pending.sender_nonce:
        raise ScepError("the CertRep's recipient nonce is not ours")
    status = str(attributes.get(OID_PKI_STATUS))
    if status != PKIStatus.SUCCESS:
        fail_info = attributes.get(OID_FAIL_INFO)
        return CertRep(status, str(fail_info) if fail_info is not None else None, None)

    plain, _ = decrypt_enveloped(signed.content or b"", pending.signer, pending.key)
    ours = pending.key.public_key().public_numbers()
    for certificate in certificates_only(plain):
        public_key = certificate.public_key()
        if (
            isinstance(public_key, rsa.RSAPublicKey)
            and public_key.public_numbers() == ours
        ):
            return CertRep(status, None, certificate)
    raise ScepError("the CertRep holds no certificate for our key")


def self_signed(key: rsa.RSAPrivateKey, subject: x509.Name) -> x509.Certificate:
    now = datetime.now(UTC)
    name = (
        subject
        if len(subject)
        else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SCEP request")])
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
