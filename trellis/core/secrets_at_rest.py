"""Every secret Trellis keeps at rest: checking that it opens, sealing it again."""

import logging
from dataclasses import dataclass
from pathlib import Path

from trellis.apns.keys import check_push_keys, reseal_push_keys
from trellis.core.sealing import unseal
from trellis.pki.authority import forget_cached_identities, private_key_files
from trellis.pki.keystore import reseal_private_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResealReport:
    """How many secrets there are and how many were written again."""

    files: int
    files_rewritten: int
    rows: int
    rows_rewritten: int


def check_secrets() -> int:
    """Decrypt every secret once; raise SecretsUnavailable naming one that fails."""
    return _check_files(private_key_files()) + check_push_keys()


def reseal_secrets(rotate: bool) -> ResealReport:
    """Seal secrets again under the first key: all of them, or only plain ones.

    Everything is checked first, so a secret no key opens stops the run
    before anything is rewritten.
    """
    files = private_key_files()
    _check_files(files)
    rows = check_push_keys()
    rewritten = [path for path in files if reseal_private_key(path, rotate)]
    rows_rewritten = reseal_push_keys(rotate)
    forget_cached_identities()
    report = ResealReport(len(files), len(rewritten), rows, rows_rewritten)
    if rewritten or rows_rewritten:
        logger.info(
            "secrets sealed again rotate=%s files=%s rows=%s",
            rotate,
            len(rewritten),
            rows_rewritten,
        )
    return report


def _check_files(files: list[Path]) -> int:
    for path in files:
        unseal(path.read_bytes(), f"the private key {path}")
    return len(files)
