"""MDM check-in and connect messages, and the commands Trellis sends.

Pure: property lists in, plain dataclasses out. Keys follow Apple's schemas
(mdm/checkin/*.yaml and mdm/commands/*.yaml in apple/device-management).
"""

import plistlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    """Read a connect body; raise MessageError when it is not one."""
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
