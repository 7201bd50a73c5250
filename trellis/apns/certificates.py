"""Reading and checking an MDM push certificate and its private key.

Pure functions; no Django. The topic devices subscribe to is the
certificate subject's UID, which for MDM always starts ``com.apple.mgmt.``.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

MDM_TOPIC_PREFIX = "com.apple.mgmt."
MAX_TOPIC_LENGTH = 255
CLOCK_SKEW = timedelta(minutes=10)


class PushCertificateError(ValueError):
    """The certificate or key cannot serve as Trellis's push identity."""


@dataclass(frozen=True)
class PushIdentity:
    """A checked push certificate with its key, in PEM."""

    topic: str
    not_after: datetime
    certificate_pem: str
    private_key_pem: str = field(repr=False)
    serial_number: str = ""


def read_push_identity(
    certificate_pem: str, private_key_pem: str, now: datetime | None = None
) -> PushIdentity:
    """Check a PEM certificate and key pair and answer its topic and expiry."""
    certificate = load_certificate(certificate_pem)
    key = _load_key(private_key_pem)
    if not _same_public_key(certificate, key):
        raise PushCertificateError(
            "The private key does not belong to this certificate."
        )

    topic = read_topic(certificate)
    now = now or datetime.now(UTC)
    expires = certificate.not_valid_after_utc
    if expires <= now:
        raise PushCertificateError(f"This certificate expired on {expires:%Y-%m-%d}.")
    starts = certificate.not_valid_before_utc
    if starts > now + CLOCK_SKEW:
        raise PushCertificateError(
            f"This certificate is not valid before {starts:%Y-%m-%d}."
        )

    return PushIdentity(
        topic=topic,
        not_after=expires,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_key_pem=_key_pem(key),
        serial_number=format(certificate.serial_number, "x"),
    )


@dataclass(frozen=True)
class SigningRequest:
    """A new private key, and the CSR for Apple's push certificate process."""

    private_key_pem: str
    csr_pem: str


def create_signing_request(common_name: str, email: str = "") -> SigningRequest:
    """Generate an RSA key and a CSR for an MDM push certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attributes))
        .sign(key, hashes.SHA256())
    )
    return SigningRequest(
        private_key_pem=_key_pem(key),
        csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode(),
    )


def read_pkcs12(data: bytes, passphrase: str) -> tuple[str, str]:
    """Answer the PEM certificate and PEM key inside a .p12/.pfx file."""
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(
            data, passphrase.encode() if passphrase else None
        )
    except ValueError as exc:
        raise PushCertificateError(
            "The .p12 file cannot be opened: "
            "the passphrase is wrong or the file is damaged."
        ) from exc
    if certificate is None or key is None:
        raise PushCertificateError(
            "The .p12 file must hold both the certificate and its key."
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PushCertificateError("The private key must be an RSA or EC key.")
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key)


def key_matches(certificate_pem: str, private_key_pem: str) -> bool:
    """Answer whether the key belongs to the certificate.

    An unreadable certificate is an error to show; an unreadable key is only
    a key that does not match.
    """
    certificate = load_certificate(certificate_pem)
    try:
        return _same_public_key(certificate, _load_key(private_key_pem))
    except PushCertificateError:
        return False


def read_topic(certificate: x509.Certificate) -> str:
    """Answer the push topic: the subject's UID, which must be an MDM topic."""
    uids = certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
    if not uids:
        raise PushCertificateError(
            "This is not an MDM push certificate: its subject has no UID (topic)."
        )
    topic = str(uids[0].value)
    if len(topic) > MAX_TOPIC_LENGTH or "\x00" in topic:
        raise PushCertificateError(
            "This certificate's topic is not a plausible MDM topic."
        )
    if not topic.startswith(MDM_TOPIC_PREFIX):
        raise PushCertificateError(
            f"This is not an MDM push certificate: its topic {topic!r} "
            f"does not start with {MDM_TOPIC_PREFIX!r}."
        )
    return topic


def load_certificate(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise PushCertificateError(
            "The certificate is not a readable PEM certificate."
        ) from exc


def _load_key(pem: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError as exc:
        raise PushCertificateError(
            "The private key is encrypted; supply it without a passphrase."
        ) from exc
    except ValueError as exc:
        raise PushCertificateError(
            "The private key is not a readable PEM key."
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PushCertificateError("The private key must be an RSA or EC key.")
    return key


def _same_public_key(
    certificate: x509.Certificate, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return certificate.public_key().public_bytes(
        der, spki
    ) == key.public_key().public_bytes(der, spki)


def _key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
