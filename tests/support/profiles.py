"""Configuration profiles for tests, built as Mac admins' tools write them."""

import plistlib
import struct
import uuid
from pathlib import Path
from typing import Any

from tests.support.certificates import foreign_authority, rsa_key
from trellis.pki.cms import sign_attached


def payload(
    payload_type: str = "com.apple.applicationaccess",
    identifier: str | None = None,
    **keys: Any,
) -> dict[str, Any]:
    """One payload dictionary with its common keys."""
    return {
        "PayloadType": payload_type,
        "PayloadIdentifier": identifier or f"com.example.{uuid.uuid4().hex[:8]}",
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadVersion": 1,
        "PayloadDisplayName": "Restrictions",
        **keys,
    }


def profile_dict(
    identifier: str = "com.example.restrictions",
    payloads: list[Any] | None = None,
    **keys: Any,
) -> dict[str, Any]:
    """A whole profile as a dictionary; `keys` add to or replace top-level keys."""
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": "Restrictions",
        "PayloadOrganization": "Example Org",
        "PayloadDescription": "Blocks AirDrop",
        "PayloadScope": "System",
        "PayloadRemovalDisallowed": True,
        "PayloadContent": payloads
        if payloads is not None
        else [payload(identifier=f"{identifier}.restrictions", allowAirDrop=False)],
        **keys,
    }


def make_profile(
    identifier: str = "com.example.restrictions",
    payloads: list[Any] | None = None,
    binary: bool = False,
    **keys: Any,
) -> bytes:
    """A profile as XML (or binary) property list bytes."""
    fmt = plistlib.FMT_BINARY if binary else plistlib.FMT_XML
    return plistlib.dumps(profile_dict(identifier, payloads, **keys), fmt=fmt)


def sign_profile(content: bytes, name: str = "Profile Signer") -> bytes:
    """The profile CMS-signed (attached, DER) by a certificate of a foreign CA."""
    key = rsa_key()
    certificate = foreign_authority().issue(key, name=name)
    return sign_attached(content, certificate, key)


def binary_plist(objects: list[bytes], top: int = 0) -> bytes:
    """A binary property list from encoded objects, refs and offsets one byte wide.

    Lets tests write what plistlib refuses to: containers that contain
    themselves, one array referenced many times, keys that are not strings.
    """
    body = b"bplist00"
    offsets = []
    for encoded in objects:
        offsets.append(len(body))
        body += encoded
    table = len(body)
    body += bytes(offsets)
    return body + struct.pack(">6xBBQQQ", 1, 1, len(objects), top, table)


def fixture_files(shared: Path, folder: str) -> list[Path]:
    """The profiles of one fixture folder, sorted."""
    return sorted((shared / "profiles" / folder).glob("*.mobileconfig"))
