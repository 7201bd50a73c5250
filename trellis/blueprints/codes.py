"""Enrollment codes: generation, normalisation and lookup digests.

A code is 12 symbols from a 31-symbol alphabet that leaves out the look-alikes
0/O and 1/I/L: 12 x log2(31) = 59.4 bits of entropy. People may type it in any
case, with or without the spaces and dashes of its printed form.
"""

import hashlib
import math
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
GROUP = 4
ENTROPY_BITS = CODE_LENGTH * math.log2(len(ALPHABET))

_IGNORED = str.maketrans("", "", " -\t\r\n\u00a0\u2010\u2011\u2012\u2013\u2014")


def generate_code() -> str:
    """Answer a new random code in normalised form."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(entered: str) -> str:
    """Answer the code as stored: upper case, without spaces and dashes."""
    return entered.translate(_IGNORED).upper()


def format_code(code: str) -> str:
    """Answer the code as people read it: groups of four joined by dashes."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def code_digest(normalized: str) -> str:
    """Answer the digest the database is searched by.

    Searching by a digest rather than by the code keeps the time a lookup
    takes unrelated to how much of a guessed code is right.
    """
    return hashlib.sha256(normalized.encode()).hexdigest()


def is_well_formed(normalized: str) -> bool:
    """Answer whether a normalised entry could be a code at all."""
    return len(normalized) == CODE_LENGTH and all(c in ALPHABET for c in normalized)
