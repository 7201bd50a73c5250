"""Keys and certificates on disk, readable by the service user only.

Private keys are written sealed (encrypted with TRELLIS_SECRET_KEYS, see
trellis.core.sealing); plain PEM keys of older installs are still read.
"""

import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from trellis.core.sealing import is_plain, reseal, seal, unseal


def write_private_key(path: Path, key: PrivateKeyTypes) -> None:
    """Write a private key sealed, created with mode 0600 and never widened."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomically(path, seal(pem) + b"\n")


def read_private_key(path: Path) -> PrivateKeyTypes:
    """Read a private key written by write_private_key (or plain PEM of old)."""
    pem = unseal(path.read_bytes(), f"the private key {path}")
    return serialization.load_pem_private_key(pem, password=None)


def reseal_private_key(path: Path, rotate: bool) -> bool:
    """Seal a key file again under the first key; answer whether it was rewritten.

    Without ``rotate`` only plain keys are sealed; with it every key is.
    """
    stored = path.read_bytes()
    if not rotate and not is_plain(stored):
        return False
    write_atomically(path, reseal(stored, f"the private key {path}") + b"\n")
    return True


def write_certificates(path: Path, certificates: list[x509.Certificate]) -> None:
    """Write one or more certificates as PEM, leaf first."""
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    write_atomically(path, pem, mode=0o644)


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Read every certificate of a PEM file, in file order."""
    return x509.load_pem_x509_certificates(path.read_bytes())


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace a file in one step: readers see the old content or the new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
