"""Certificates for tests: push certificates and foreign authorities."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_TOPIC = "com.apple.mgmt.External.2b1c9d7e-61c4-4f0a-9a35-7d1c3e5f8a90"


def rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class PushPair:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def certificate_pem(self) -> str:
        return pem(self.certificate)

    @property
    def key_pem(self) -> str:
        return key_pem(self.key)


def push_pair(
    topic: str | None = DEFAULT_TOPIC,
    valid_from: timedelta = timedelta(days=-1),
    valid_for: timedelta = timedelta(days=365),
    key: rsa.RSAPrivateKey | None = None,
) -> PushPair:
    """A certificate shaped like Apple's MDM push certificates (UID = topic)."""
    key = key or rsa_key()
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, "APSP:test push")]
    if topic is not None:
        attributes.insert(0, x509.NameAttribute(NameOID.USER_ID, topic))
    name = x509.Name(attributes)
    start = datetime.now(UTC) + valid_from
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Push CA")])
        )
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .sign(key, hashes.SHA256())
    )
    return PushPair(certificate, key)


@dataclass(frozen=True)
class ForeignAuthority:
    """A CA that is not Trellis's, issuing certificates Trellis must not trust."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    def issue(
        self, subject_key: rsa.RSAPrivateKey, name: str = "foreign device"
    ) -> x509.Certificate:
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.certificate.subject)
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )


def foreign_authority(name: x509.Name | None = None) -> ForeignAuthority:
    """A self-signed CA that is not Trellis's (it may bear the same name)."""
    key = rsa_key()
    name = name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return ForeignAuthority(certificate, key)
