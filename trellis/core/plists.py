"""Reading property lists from outside, XML or binary, with one error type."""

import plistlib
import struct
from typing import Any
from xml.parsers.expat import ExpatError

# What plistlib raises on malformed XML or binary input, beyond its own error.
_PLIST_ERRORS = (
    plistlib.InvalidFileException,
    ExpatError,
    ValueError,
    TypeError,
    KeyError,
    LookupError,
    IndexError,
    OverflowError,
    RecursionError,
    struct.error,
)


class PlistError(ValueError):
    """The bytes are not a property list."""


def load_plist(data: bytes, fmt: plistlib.PlistFormat | None = None) -> Any:
    """Parse an XML or binary property list; raise PlistError if it is not one.

    The format is told by the first bytes unless `fmt` says which it is.
    """
    try:
        return plistlib.loads(data, fmt=fmt)
    except _PLIST_ERRORS as exc:
        raise PlistError(f"not a property list ({type(exc).__name__})") from exc
