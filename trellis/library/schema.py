"""Apple's rules for a configuration profile's keys, checked one by one.

The TopLevel keys of a profile and the CommonPayloadKeys of each payload in
its PayloadContent, as Apple's device-management schemas describe them. Pure;
no Django.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trellis.core.errors import BadMessage

# Identifiers are stored and compared in the database.
MAX_IDENTIFIER_LENGTH = 255

SCOPES = ("System", "User")

# Payload types a library profile may not carry, and why.
FORBIDDEN_PAYLOAD_TYPES = {
    "com.apple.mdm": (
        "MDM enrollment belongs to Trellis: a library profile cannot enroll "
        "devices into an MDM server"
    ),
    "Configuration": "a profile cannot be nested inside another",
}

_FORBIDDEN_BY_FOLDED = {
    name.casefold(): (name, reason) for name, reason in FORBIDDEN_PAYLOAD_TYPES.items()
}

# Apple asks only for a globally unique string ("the actual content is
# unimportant"), but every profile tool writes hexadecimal UUIDs, so anything
# else is a placeholder or a slip. Grouping is left loose: real profiles carry
# uuidgen output with an extra group of digits.
_UUID = re.compile(r"[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)*")
_UUID_HEX_DIGITS = 32
_UUID_MAX_LENGTH = 64

_TOP_LEVEL_TYPES: dict[str, tuple[type, ...]] = {
    "PayloadDisplayName": (str,),
    "PayloadDescription": (str,),
    "PayloadOrganization": (str,),
    "PayloadScope": (str,),
    "PayloadRemovalDisallowed": (bool,),
    "HasRemovalPasscode": (bool,),
    "RemovalDate": (datetime,),
    "PayloadExpirationDate": (datetime,),
    "DurationUntilRemoval": (int, float),
    "TargetDeviceType": (int,),
    "ConsentText": (dict,),
}

_PAYLOAD_TYPES: dict[str, tuple[type, ...]] = {
    "PayloadDisplayName": (str,),
    "PayloadDescription": (str,),
    "PayloadOrganization": (str,),
    "PayloadEnabled": (bool,),
}


class ProfileError(BadMessage):
    """The upload is not a configuration profile Trellis accepts."""

    status = 400


class ProfileTooLarge(ProfileError):
    """The upload is larger than any profile Trellis accepts."""

    status = 413


@dataclass(frozen=True)
class Payload:
    """One payload of a profile's PayloadContent (CommonPayloadKeys)."""

    type: str
    identifier: str
    uuid: str
    display_name: str


def read_top_level(top: dict[str, Any]) -> tuple[str, str]:
    """Check the TopLevel keys; answer the profile's identifier and UUID."""
    payload_type = top.get("PayloadType")
    if payload_type != "Configuration":
        found = "none" if payload_type is None else _show(payload_type)
        raise ProfileError(
            f"the top-level PayloadType must be 'Configuration', not {found}"
        )
    _require_version(top, "the top level")
    identifier = _require_identifier(top, "the top level")
    uuid = _require_uuid(top, "the top level")

    if top.get("IsEncrypted") is True or "EncryptedPayloadContent" in top:
        raise ProfileError(
            "the profile is encrypted: an encrypted profile opens on one device "
            "only; upload it unencrypted"
        )
    _check_types(top, _TOP_LEVEL_TYPES, "the top level")
    scope = top.get("PayloadScope", "System")
    if scope not in SCOPES:
        raise ProfileError(
            f"the top-level PayloadScope must be 'System' or 'User', not {_show(scope)}"
        )
    return identifier, uuid


def read_payloads(top: dict[str, Any], profile_uuid: str) -> tuple[Payload, ...]:
    """Check every payload of PayloadContent; answer them in order."""
    if "PayloadContent" not in top:
        raise ProfileError("the top level has no PayloadContent")
    content = top["PayloadContent"]
    if not isinstance(content, list):
        raise ProfileError(f"PayloadContent is {kind(content)}, not an array")
    if not content:
        raise ProfileError("PayloadContent is empty: the profile carries no payload")

    payloads = tuple(
        _read_payload(item, index) for index, item in enumerate(content, 1)
    )

    _refuse_duplicates(
        "PayloadIdentifier", [payload.identifier for payload in payloads]
    )
    _refuse_duplicates(
        "PayloadUUID", [profile_uuid.upper(), *(p.uuid.upper() for p in payloads)]
    )
    return payloads


def _read_payload(item: Any, index: int) -> Payload:
    where = f"payload {index} of PayloadContent"
    if not isinstance(item, dict):
        raise ProfileError(f"{where} is {kind(item)}, not a dictionary")
    payload_type = item.get("PayloadType")
    if payload_type is None:
        raise ProfileError(f"{where} has no PayloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise ProfileError(f"PayloadType in {where} is not a name")
    # Compared loosely, so that "com.apple.MDM " is not a way around the rule.
    forbidden = _FORBIDDEN_BY_FOLDED.get(payload_type.strip().casefold())
    if forbidden is not None:
        name, reason = forbidden
        raise ProfileError(f"{where} is a {name} payload: {reason}")

    where = f"payload {index} ({payload_type})"
    _require_version(item, where)
    identifier = _require_identifier(item, where)
    uuid = _require_uuid(item, where)
    _check_types(item, _PAYLOAD_TYPES, where)
    return Payload(
        type=payload_type,
        identifier=identifier,
        uuid=uuid,
        display_name=item.get("PayloadDisplayName", ""),
    )


def _require_version(values: dict[str, Any], where: str) -> None:
    version = values.get("PayloadVersion")
    if version is None:
        raise ProfileError(f"{where} has no PayloadVersion")
    # plistlib reads <true/> as True, which Python also counts as the integer 1.
    if type(version) is not int or version != 1:
        raise ProfileError(
            f"PayloadVersion in {where} must be the integer 1, not {_show(version)}"
        )


def _require_identifier(values: dict[str, Any], where: str) -> str:
    identifier = values.get("PayloadIdentifier")
    if identifier is None:
        raise ProfileError(f"{where} has no PayloadIdentifier")
    if not isinstance(identifier, str) or not identifier.strip():
        raise ProfileError(f"PayloadIdentifier in {where} is not a name")
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        raise ProfileError(
            f"PayloadIdentifier in {where} is longer than {MAX_IDENTIFIER_LENGTH} "
            "characters"
        )
    return identifier


def _require_uuid(values: dict[str, Any], where: str) -> str:
    uuid = values.get("PayloadUUID")
    if uuid is None:
        raise ProfileError(f"{where} has no PayloadUUID")
    if not _is_uuid(uuid):
        raise ProfileError(f"PayloadUUID {_show(uuid)} in {where} is not a UUID")
    return str(uuid)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > _UUID_MAX_LENGTH:
        return False
    if not _UUID.fullmatch(value):
        return False
    return len(value.replace("-", "")) >= _UUID_HEX_DIGITS


def _check_types(
    values: dict[str, Any], expected: dict[str, tuple[type, ...]], where: str
) -> None:
    for key, types in expected.items():
        if key not in values:
            continue
        value = values[key]
        # A boolean is not a number here, though Python says it is an int.
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ProfileError(f"{key} in {where} must be {wanted}, not {kind(value)}")


def _refuse_duplicates(key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ProfileError(
                f"two payloads share the {key} {_show(value)}; "
                f"each {key} must be unique within the profile"
            )
        seen.add(value)


_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a real number",
    datetime: "a date",
    bytes: "data",
    list: "an array",
    dict: "a dictionary",
}


def kind(value: Any) -> str:
    for known, name in _TYPE_NAMES.items():
        if isinstance(value, known):
            return name
    return type(value).__name__


def _show(value: Any) -> str:
    """A short, safe rendering of an untrusted value for a message."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
