"""Keys and certificates on disk, readable by the service user only."""

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def write_private_key(path: Path, key: PrivateKeyTypes) -> None:
    """Write a PEM private key, created with mode 0600 and never widened."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(path, pem)


def read_private_key(path: Path) -> PrivateKeyTypes:
    """Read a PEM private key written by write_private_key or supplied by an admin."""
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def write_certificates(path: Path, certificates: list[x509.Certificate]) -> None:
    """Write one or more certificates as PEM, leaf first."""
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    _write_private(path, pem, mode=0o644)


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Read every certificate of a PEM file, in file order."""
    return x509.load_pem_x509_certificates(path.read_bytes())


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(path.name + ".tmp")
    if temporary.exists():
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
