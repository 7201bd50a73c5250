"""Trellis's built-in certificate authority and the profile-signing identity.

The CA is created on first start under ``<TRELLIS_DATA_DIR>/pki``. It issues
device identity certificates over SCEP and the certificate that signs
enrollment profiles (which an admin may replace with their own).
"""

import fcntl
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from trellis.pki import keystore

CA_KEY_SIZE = 2048
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertificateAuthority:
    """The CA certificate and key, with the operations Trellis needs of them."""

    certificate: x509.Certificate
    key_path: Path
    certificate_der: bytes = field(repr=False)
    fingerprint: str = field(default="")

    @cached_property
    def key(self) -> rsa.RSAPrivateKey:
        """The CA key, decrypted on first use: checking signatures never needs it."""
        key = keystore.read_private_key(self.key_path)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise RuntimeError("the CA key must be an RSA key")
        return key

    def issue_device_certificate(
        self, public_key: CertificatePublicKeyTypes, subject: x509.Name, days: int
    ) -> x509.Certificate:
        """Issue a device identity certificate for client authentication."""
        builder = _leaf_builder(self.certificate, public_key, subject, days)
        builder = builder.add_extension(
            _key_usage(digital_signature=True, key_encipherment=True), critical=True
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        return builder.sign(self.key, hashes.SHA256())

    def issue_signing_certificate(
        self, public_key: CertificatePublicKeyTypes, subject: x509.Name, days: int
    ) -> x509.Certificate:
        """Issue a certificate that signs enrollment profiles."""
        builder = _leaf_builder(self.certificate, public_key, subject, days)
        builder = builder.add_extension(
            _key_usage(digital_signature=True), critical=True
        )
        return builder.sign(self.key, hashes.SHA256())

    def issued(self, certificate: x509.Certificate) -> bool:
        """Answer whether this CA signed the certificate."""
        if certificate.issuer != self.certificate.subject:
            return False
        try:
            certificate.verify_directly_issued_by(self.certificate)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            return False
        return True


@dataclass(frozen=True)
class ProfileSigner:
    """The certificate, key and chain that sign enrollment profiles."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]


_lock = threading.Lock()
_authorities: dict[Path, CertificateAuthority] = {}
_signers: dict[Path, tuple[float, ProfileSigner]] = {}


def pki_dir() -> Path:
    """Answer the folder that holds the CA and signing keys."""
    return Path(settings.TRELLIS_DATA_DIR) / "pki"


def get_authority() -> CertificateAuthority:
    """Load the CA, creating it on first use."""
    directory = pki_dir()
    cached = _authorities.get(directory)
    if cached is not None:
        return cached
    with _lock, _file_lock(directory):
        if not (directory / "ca.key").exists():
            _create_authority(directory)
        certificate = keystore.read_certificates(directory / "ca.crt")[0]
        der = certificate.public_bytes(serialization.Encoding.DER)
        authority = CertificateAuthority(
            certificate=certificate,
            key_path=directory / "ca.key",
            certificate_der=der,
            fingerprint=hashlib.sha256(der).hexdigest(),
        )
        _authorities[directory] = authority
        return authority


def get_profile_signer() -> ProfileSigner:
    """Load the profile-signing identity, issuing one from the CA on first use.

    An admin-supplied pair (``manage.py set_profile_signer``) replaces the files;
    a changed file is picked up without a restart.
    """
    directory = pki_dir()
    cert_path = directory / "profile-signer.crt"
    if not cert_path.exists():
        authority = get_authority()
        with _lock, _file_lock(directory):
            if not cert_path.exists():
                _create_profile_signer(directory, authority)
    mtime = cert_path.stat().st_mtime
    cached = _signers.get(directory)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    certificates = keystore.read_certificates(cert_path)
    key = keystore.read_private_key(directory / "profile-signer.key")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError("the profile-signing key must be an RSA key")
    signer = ProfileSigner(certificates[0], key, tuple(certificates[1:]))
    _signers[directory] = (mtime, signer)
    return signer


def install_profile_signer(
    certificates: list[x509.Certificate], key: rsa.RSAPrivateKey
) -> None:
    """Replace the profile-signing identity with an admin-supplied one."""
    if not certificates:
        raise ValueError("no certificate given")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if certificates[0].public_key().public_bytes(
        *spki
    ) != key.public_key().public_bytes(*spki):
        raise ValueError("the private key does not belong to the certificate")
    directory = pki_dir()
    keystore.write_private_key(directory / "profile-signer.key", key)
    keystore.write_certificates(directory / "profile-signer.crt", certificates)
    _signers.pop(directory, None)


def private_key_files() -> list[Path]:
    """The CA and profile-signing key files that exist."""
    directory = pki_dir()
    names = ("ca.key", "profile-signer.key")
    return [directory / name for name in names if (directory / name).exists()]


def forget_cached_identities() -> None:
    """Drop what this process has loaded (tests switch data folders)."""
    _authorities.clear()
    _signers.clear()


def _create_authority(directory: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=CA_KEY_SIZE)
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, settings.TRELLIS_ORGANIZATION
            ),
            x509.NameAttribute(
                NameOID.COMMON_NAME,
                f"{settings.TRELLIS_ORGANIZATION} Device CA",
            ),
        ]
    )
    now = datetime.now(UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=settings.TRELLIS_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(
                digital_signature=True,
                key_encipherment=True,
                key_cert_sign=True,
                crl_sign=True,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    keystore.write_private_key(directory / "ca.key", key)
    keystore.write_certificates(directory / "ca.crt", [certificate])


def _create_profile_signer(directory: Path, authority: CertificateAuthority) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=CA_KEY_SIZE)
    subject = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, settings.TRELLIS_ORGANIZATION
            ),
            x509.NameAttribute(
                NameOID.COMMON_NAME,
                f"{settings.TRELLIS_ORGANIZATION} Profile Signing",
            ),
        ]
    )
    certificate = authority.issue_signing_certificate(
        key.public_key(), subject, settings.TRELLIS_CA_DAYS
    )
    keystore.write_private_key(directory / "profile-signer.key", key)
    keystore.write_certificates(directory / "profile-signer.crt", [certificate])


def _key_usage(**allowed: bool) -> x509.KeyUsage:
    """A KeyUsage extension allowing only the named uses."""
    uses = {
        "digital_signature": False,
        "content_commitment": False,
        "key_encipherment": False,
        "data_encipherment": False,
        "key_agreement": False,
        "key_cert_sign": False,
        "crl_sign": False,
        "encipher_only": False,
        "decipher_only": False,
    }
    return x509.KeyUsage(**(uses | allowed))


def _leaf_builder(
    issuer: x509.Certificate,
    public_key: CertificatePublicKeyTypes,
    subject: x509.Name,
    days: int,
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    issuer_ski = issuer.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
    )


class _file_lock:
    """An exclusive lock on the PKI folder, so two workers never create two CAs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.handle = open(self.directory / ".lock", "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc_info: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
