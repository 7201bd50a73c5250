"""MDM check-in and connect messages, and the commands Trellis sends.

Pure: property lists in, plain dataclasses out. Keys follow Apple's schemas
(mdm/checkin/*.yaml and mdm/commands/*.yaml in apple/device-management).
"""

import json
import plistlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from trellis.core.plists import PlistError, load_plist

CHECKIN_MESSAGE_TYPES = frozenset(
    {
        "Authenticate",
        "TokenUpdate",
        "CheckOut",
        "UserAuthenticate",
        "SetBootstrapToken",
        "GetBootstrapToken",
        "DeclarativeManagement",
        "GetToken",
        "ReturnToService",
    }
)

CONNECT_STATUSES = frozenset(
    {"Idle", "Acknowledged", "Error", "CommandFormatError", "NotNow"}
)

# UDIDs are hexadecimal with dashes (iOS: 8-16, Mac: a UUID); allow a margin.
UDID_PATTERN = re.compile(r"[A-Za-z0-9-]{1,64}")

# Connect bodies larger than this are scanned, not parsed (see read_connect).
LARGE_BODY = 1024 * 1024

# What the first inventory asks; each name is a DeviceInformation query.
DEVICE_INFORMATION_QUERIES = (
    "DeviceName",
    "Model",
    "ModelName",
    "ProductName",
    "SerialNumber",
    "OSVersion",
    "BuildVersion",
    "UDID",
)


class MessageError(ValueError):
    """The body is not a message of the expected form."""


@dataclass(frozen=True)
class CheckinMessage:
    """A check-in request: Authenticate, TokenUpdate, CheckOut and the rest."""

    message_type: str
    udid: str
    topic: str
    user_id: str | None
    fields: Mapping[str, Any] = field(repr=False)

    @property
    def is_user_channel(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class ConnectMessage:
    """A connect request: the device's status and its answer to a command."""

    status: str
    udid: str
    command_uuid: str | None
    user_id: str | None
    fields: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Answer:
    """What the server answers a check-in or connect request."""

    body: bytes = b""
    content_type: str = "text/plain"
    status: int = 200

    @classmethod
    def plist(cls, value: dict[str, Any]) -> "Answer":
        return cls(plistlib.dumps(value), "application/xml")

    @classmethod
    def json(cls, value: dict[str, Any]) -> "Answer":
        return cls(
            json.dumps(value, separators=(",", ":")).encode(), "application/json"
        )


def read_checkin(body: bytes) -> CheckinMessage:
    """Read a check-in body; raise MessageError when it is not one."""
    message = _read_plist(body)
    message_type = _text(message, "MessageType")
    if message_type not in CHECKIN_MESSAGE_TYPES:
        raise MessageError(f"unknown MessageType {message_type[:40]!r}")
    return CheckinMessage(
        message_type,
        _udid(message),
        _text(message, "Topic"),
        _optional_text(message, "UserID"),
        message,
    )


def read_connect(body: bytes) -> ConnectMessage:
    """Read a connect body; raise MessageError when it is not one.

    A large XML body (an application list of tens of thousands of entries)
    is not turned into objects: only its top-level strings are read, and its
    ``fields`` hold just those. The raw body is what gets stored.
    """
    if len(body) > LARGE_BODY and body.lstrip()[:1] == b"<":
        message: dict[str, Any] = scan_top_level_strings(body)
    else:
        message = _read_plist(body)
    status = _text(message, "Status")
    if status not in CONNECT_STATUSES:
        raise MessageError(f"unknown Status {status[:40]!r}")
    command_uuid = _optional_text(message, "CommandUUID")
    if status != "Idle" and command_uuid is None:
        raise MessageError("an answer to a command needs its CommandUUID")
    return ConnectMessage(
        status, _udid(message), command_uuid, _optional_text(message, "UserID"), message
    )


def scan_top_level_strings(body: bytes) -> dict[str, Any]:
    """Read the string values of an XML property list's top-level dictionary."""
    scanner = _TopLevelScanner()
    parser = expat.ParserCreate()
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CharacterDataHandler = scanner.text
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, ValueError, LookupError) as exc:
        raise MessageError("the body is not a property list") from exc
    if not scanner.saw_dict:
        raise MessageError("the property list is not a dictionary")
    return scanner.values


class _TopLevelScanner:
    """Expat handlers that keep <key>/<string> pairs at depth plist > dict."""

    def __init__(self) -> None:
        self.depth = 0
        self.saw_dict = False
        self.values: dict[str, Any] = {}
        self._key: str | None = None
        self._text: list[str] = []
        self._collecting = False

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 2 and name == "dict":
            self.saw_dict = True
        self._collecting = self.depth == 3 and name in ("key", "string")
        self._text = []

    def text(self, data: str) -> None:
        if self._collecting:
            self._text.append(data)

    def end(self, name: str) -> None:
        if self.depth == 3:
            if name == "key":
                self._key = "".join(self._text)
            elif self._key is not None:
                if name == "string":
                    self.values[self._key] = "".join(self._text)
                self._key = None
        self._collecting = False
        self.depth -= 1


def text_value(value: object, limit: int) -> str | None:
    """A string a device sent, if it is one that can be stored: short, no NUL."""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return None
    return value


def build_command(request_type: str, command_uuid: uuid.UUID, **fields: Any) -> bytes:
    """Answer a command as the XML property list a device is sent."""
    command = {"RequestType": request_type, **fields}
    return plistlib.dumps(
        {"Command": command, "CommandUUID": str(command_uuid).upper()}, sort_keys=True
    )


def device_information_fields() -> dict[str, Any]:
    """The fields of the first inventory's DeviceInformation command."""
    return {"Queries": list(DEVICE_INFORMATION_QUERIES)}


def query_responses(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Answer a DeviceInformation result's QueryResponses, or an empty dict."""
    responses = fields.get("QueryResponses")
    return dict(responses) if isinstance(responses, dict) else {}


_FAMILY_PREFIXES = (
    ("iPhone", "iphone"),
    ("iPod", "iphone"),
    ("iPad", "ipad"),
    ("MacBook", "mac"),
    ("Macmini", "mac"),
    ("MacPro", "mac"),
    ("iMac", "mac"),
    ("Mac", "mac"),
)


def device_family(product_name: str = "", model: str = "", model_name: str = "") -> str:
    """Answer 'mac', 'iphone' or 'ipad' from a product name or model identifier.

    Product names look like ``iPhone16,2`` or ``Mac15,3``; a Mac's
    Authenticate has ``Model`` ``MacBookPro18,3`` and ``ModelName``
    ``MacBook Pro``. Anything else (Apple TV, Vision Pro) answers ''.
    """
    for candidate in (product_name, model, model_name):
        compact = re.sub(r"\s+", "", candidate or "")
        for prefix, family in _FAMILY_PREFIXES:
            if compact.startswith(prefix):
                return family
    return ""


def _text(message: Mapping[str, Any], key: str, limit: int = 255) -> str:
    value = message.get(key, "")
    checked = text_value(value, limit)
    if checked is None:
        raise MessageError(f"{key} must be a string of at most {limit} characters")
    return checked


def _optional_text(message: Mapping[str, Any], key: str) -> str | None:
    return _text(message, key) if key in message else None


def _udid(message: Mapping[str, Any]) -> str:
    udid = message.get("UDID")
    if not isinstance(udid, str) or not UDID_PATTERN.fullmatch(udid):
        raise MessageError(
            "a device channel message needs a UDID of letters, digits and dashes"
        )
    return udid


def _read_plist(body: bytes) -> dict[str, Any]:
    if not body:
        raise MessageError("empty body")
    try:
        loaded = load_plist(body)
    except PlistError as exc:
        raise MessageError(f"the body is {exc}") from exc
    if not isinstance(loaded, dict):
        raise MessageError("the property list is not a dictionary")
    return loaded
