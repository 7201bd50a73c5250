"""Secrets at rest: private keys encrypted with the keys of TRELLIS_SECRET_KEYS.

A sealed secret is a Fernet token (AES-128-CBC with an HMAC-SHA256): the
first key seals, every key opens, so a new key goes first and the old ones
stay until ``manage.py rotate_secret_keys`` has sealed everything again.
Secrets written before encryption existed are plain PEM; they still open,
and are sealed at the next start or rotation.

With no key configured, one is generated into the data folder. That only
protects against a leak of the database alone: whoever can read the data
folder reads the key beside what it protects.
"""

import logging
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from trellis.core.errors import SecretsUnavailable

logger = logging.getLogger(__name__)

KEYS_FILE = "secret-keys"
_PLAIN_MARKER = b"-----BEGIN "

_lock = threading.Lock()
_ciphers: dict[tuple[str, ...], MultiFernet] = {}


def seal(secret: bytes) -> bytes:
    """Encrypt a secret under the first key."""
    return _cipher().encrypt(secret)


def unseal(sealed: bytes, what: str) -> bytes:
    """Decrypt a sealed secret with any key; plain PEM from older installs passes."""
    if is_plain(sealed):
        return sealed
    try:
        return _cipher().decrypt(sealed.strip())
    except InvalidToken as exc:
        raise SecretsUnavailable(
            f"{what} cannot be decrypted with any key of TRELLIS_SECRET_KEYS "
            f"({key_source()}): configure the key it was encrypted with"
        ) from exc


def reseal(sealed: bytes, what: str) -> bytes:
    """Encrypt a sealed (or plain) secret again under the first key."""
    return seal(unseal(sealed, what))


def is_plain(stored: bytes) -> bool:
    """Answer whether a stored secret is plain PEM, not yet sealed."""
    return stored.lstrip().startswith(_PLAIN_MARKER)


def seal_text(secret: str) -> str:
    """Encrypt a text secret (a PEM key) under the first key; answer text."""
    return seal(secret.encode()).decode("ascii")


def unseal_text(sealed: str, what: str) -> str:
    """Decrypt a text secret sealed by seal_text, or pass plain PEM through."""
    return unseal(sealed.encode(), what).decode()


def key_source() -> str:
    """Say where the keys come from, for messages to operators; never the keys."""
    if settings.TRELLIS_SECRET_KEYS:
        return "from the environment"
    return f"generated into {keys_file()}"


def keys_file() -> Path:
    """The file that holds generated keys when none is configured."""
    return Path(settings.TRELLIS_DATA_DIR) / KEYS_FILE


def uses_generated_key() -> bool:
    """Answer whether the keys are the generated ones kept in the data folder."""
    return not settings.TRELLIS_SECRET_KEYS


def _cipher() -> MultiFernet:
    keys = tuple(settings.TRELLIS_SECRET_KEYS) or _generated_keys(keys_file())
    cipher = _ciphers.get(keys)
    if cipher is None:
        try:
            cipher = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:
            raise SecretsUnavailable(
                f"TRELLIS_SECRET_KEYS ({key_source()}) holds something that is "
                "not a Fernet key"
            ) from exc
        _ciphers[keys] = cipher
    return cipher


def _generated_keys(path: Path) -> tuple[str, ...]:
    with _lock:
        if not path.exists():
            if _sealed_files(path.parent):
                # A key generated now could never open what was sealed before:
                # its key was moved into configuration, or lost.
                raise SecretsUnavailable(
                    "TRELLIS_SECRET_KEYS is not set and the data folder holds no key "
                    "file, but its keys are already encrypted: set TRELLIS_SECRET_KEYS "
                    "to the key they were encrypted with"
                )
            _write_new_key(path)
        keys = tuple(parse_keys(path.read_text()))
    if not keys:
        raise SecretsUnavailable(f"{path} holds no key")
    return keys


def _write_new_key(path: Path) -> None:
    # Written aside, then linked into place: another process sees either no
    # file or the whole key, and the first link wins.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return
    finally:
        temporary.unlink(missing_ok=True)
    logger.warning(
        "generated a key for secrets at rest path=%s: "
        "move it into TRELLIS_SECRET_KEYS for production",
        path,
    )


def _sealed_files(data_dir: Path) -> bool:
    """Answer whether the data folder already holds encrypted keys (the CA's)."""
    folder = data_dir / "pki"
    if not folder.is_dir():
        return False
    return any(
        entry.suffix == ".key" and not is_plain(entry.read_bytes())
        for entry in folder.iterdir()
        if entry.is_file()
    )


def parse_keys(text: str) -> list[str]:
    """Split keys given comma- or line-separated, ignoring blanks."""
    return [key.strip() for key in text.replace(",", "\n").splitlines() if key.strip()]
