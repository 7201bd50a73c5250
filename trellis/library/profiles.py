"""Configuration profiles as admins upload them: read, checked and described.

Reads unsigned (XML or binary) and CMS-signed profiles, checks them against
the rules in ``schema``, and describes them. Pure: bytes in, a
ConfigurationProfile or a ProfileError out; no Django.
"""

import hashlib
import plistlib
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat
from xml.parsers.expat import ExpatError
from xml.parsers.expat import errors as expat_errors

from cryptography import x509

from trellis.core.plists import PlistError, load_plist
from trellis.library.schema import (
    Payload,
    ProfileError,
    ProfileTooLarge,
    kind,
    read_payloads,
    read_top_level,
)
from trellis.pki.cms import CMSError, SignatureError, verify_signed_data

__all__ = [
    "MAX_PROFILE_BYTES",
    "ConfigurationProfile",
    "Payload",
    "ProfileError",
    "ProfileTooLarge",
    "read_profile",
]

# The largest upload read at all; real profiles are a few kilobytes, and
# even one carrying certificates or a font stays far below this.
MAX_PROFILE_BYTES = 5 * 1024 * 1024

# Nesting deeper than this is refused. Real profiles nest about eight levels
# (managed preferences inside PayloadContent); a binary property list can
# describe a structure that contains itself, which only a limit stops.
MAX_DEPTH = 32

# Values (dictionaries, arrays, strings, ...) in one profile. A binary property
# list can point at one array from many places, so a few hundred bytes can
# describe billions of values; this bounds the work of reading one.
MAX_VALUES = 500_000


@dataclass(frozen=True)
class ConfigurationProfile:
    """A checked configuration profile (TopLevel) and the bytes devices get."""

    identifier: str
    uuid: str
    display_name: str
    organization: str
    description: str
    scope: str
    removal_disallowed: bool
    payloads: tuple[Payload, ...]
    signer: str | None
    content: bytes

    @property
    def signed(self) -> bool:
        return self.signer is not None

    @property
    def payload_types(self) -> list[str]:
        """Each payload type once, in the order the profile lists them."""
        return list(dict.fromkeys(payload.type for payload in self.payloads))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def read_profile(data: bytes) -> ConfigurationProfile:
    """Read an uploaded profile, signed or not; raise ProfileError naming the fault.

    The profile is kept exactly as uploaded: a signed profile is sent to
    devices with its signature, so they show who signed it.
    """
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileTooLarge(
            f"the profile is {len(data)} bytes; the limit is {MAX_PROFILE_BYTES}"
        )

    plist, signer = _unwrap(data)
    top = _load(plist)
    _check_values(top)

    if not isinstance(top, dict):
        raise ProfileError(
            f"the top level is {kind(top)}, not a dictionary: "
            "a configuration profile is a dictionary"
        )
    identifier, uuid = read_top_level(top)
    payloads = read_payloads(top, uuid)

    return ConfigurationProfile(
        identifier=identifier,
        uuid=uuid,
        display_name=top.get("PayloadDisplayName", ""),
        organization=top.get("PayloadOrganization", ""),
        description=top.get("PayloadDescription", ""),
        scope=top.get("PayloadScope", "System"),
        removal_disallowed=top.get("PayloadRemovalDisallowed", False),
        payloads=payloads,
        signer=signer,
        content=data,
    )


def _unwrap(data: bytes) -> tuple[bytes, str | None]:
    """Answer the property list and its signer's subject, if the upload is signed."""
    # A DER or BER SignedData starts with a SEQUENCE tag; no property list does.
    if not data.startswith(b"\x30"):
        return data, None
    try:
        message = verify_signed_data(data)
    except SignatureError as exc:
        raise ProfileError(f"the profile's signature does not verify: {exc}") from exc
    except CMSError as exc:
        raise ProfileError(
            f"not a property list, nor a readable signed profile: {exc}"
        ) from exc
    return message.content or b"", _subject(message.signer)


def _subject(certificate: x509.Certificate) -> str:
    try:
        return certificate.subject.rfc4514_string()
    except ValueError as exc:
        raise ProfileError("the signer's certificate has an unreadable name") from exc


def _load(plist: bytes) -> Any:
    # plistlib knows XML only by "<?xml" or "<plist" in front, but the XML
    # declaration is optional: hand-written profiles may open with the DOCTYPE.
    fmt = plistlib.FMT_XML if plist.lstrip()[:1] == b"<" else None
    if fmt is not None:
        _refuse_repeated_keys(plist)
    try:
        value = load_plist(plist, fmt)
    except PlistError as exc:
        raise ProfileError(_why_unreadable(plist, exc.__cause__)) from exc
    # plistlib answers None for well-formed XML with no plist value in it.
    if value is None:
        raise ProfileError("not a property list: the XML holds no plist value")
    return value


def _refuse_repeated_keys(plist: bytes) -> None:
    """Refuse an XML dictionary that names a key twice.

    Readers disagree on which of the two values counts, so a profile could
    show one payload type to Trellis and another to a device.
    """
    dictionaries: list[set[str] | None] = []
    text: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        dictionaries.append(set() if name == "dict" else None)
        text.clear()

    def end(name: str) -> None:
        dictionaries.pop()
        if name == "key" and dictionaries and dictionaries[-1] is not None:
            key = "".join(text)
            if key in dictionaries[-1]:
                raise ProfileError(
                    f"a dictionary in the profile names the key {key!r} twice"
                )
            dictionaries[-1].add(key)

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(plist, True)
    except (ExpatError, ValueError, LookupError):
        return  # malformed XML: the reader that follows says why


def _why_unreadable(plist: bytes, cause: BaseException | None) -> str:
    if isinstance(cause, ExpatError):
        if cause.code == expat_errors.codes[expat_errors.XML_ERROR_NO_ELEMENTS]:
            return (
                "not a complete property list: the XML ends before the plist "
                "does (is the file cut short?)"
            )
        reason = expat_errors.messages.get(cause.code, "malformed XML")
        return f"not a property list: XML error at line {cause.lineno}: {reason}"
    if plist.startswith(b"bplist"):
        return "not a property list: the binary property list is damaged"
    return "not a property list: neither XML, binary, nor a signed profile"


def _check_values(root: Any) -> None:
    """Refuse structures nested too deep, too many values, and non-string keys."""
    stack = [(root, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ProfileError(f"the profile holds more than {MAX_VALUES} values")
        if depth > MAX_DEPTH:
            raise ProfileError(f"the profile is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ProfileError(
                        f"a dictionary key is {kind(key)}; keys must be strings"
                    )
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            # No device reads such a string, and databases refuse to store it.
            raise ProfileError("a string in the profile holds a NUL character")
