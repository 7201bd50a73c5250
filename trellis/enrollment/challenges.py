"""One-time SCEP challenges: letters and digits only, stored as digests."""

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
CHALLENGE_LENGTH = 32


def generate_challenge() -> str:
    """Answer a new challenge (32 symbols of 62: about 190 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CHALLENGE_LENGTH))


def challenge_digest(challenge: str) -> str:
    """Answer the digest a challenge is stored and found by."""
    return hashlib.sha256(challenge.encode()).hexdigest()
