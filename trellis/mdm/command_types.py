"""The commands an admin can queue, and the fields each takes.

Each entry turns an admin's parameters into the command's fields, as Apple's
command schemas name them (mdm/commands/*.yaml), refusing what a device would
refuse anyway.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from trellis.core.validators import is_printable
from trellis.mdm.models import Device
from trellis.mdm.protocol import DEVICE_INFORMATION_QUERIES


class CommandRefused(ValueError):
    """The parameters do not make a valid command for this device."""


Builder = Callable[[Device, Mapping[str, Any]], dict[str, Any]]


def _no_fields(device: Device, params: Mapping[str, Any]) -> dict[str, Any]:
    if params:
        raise CommandRefused(f"this command takes no parameters, not {sorted(params)}")
    return {}


def _device_information(device: Device, params: Mapping[str, Any]) -> dict[str, Any]:
    queries = params.get("queries", list(DEVICE_INFORMATION_QUERIES))
    if (
        not isinstance(queries, list)
        or not queries
        or not all(isinstance(q, str) and q.isalnum() for q in queries)
    ):
        raise CommandRefused("queries must be a non-empty list of query names")
    return {"Queries": queries}


def _pin(device: Device, params: Mapping[str, Any]) -> dict[str, Any]:
    pin = params.get("pin")
    if pin is None:
        return {}
    if device.device_family != Device.Family.MAC:
        raise CommandRefused("a PIN is for Macs only")
    # ASCII digits: \d would also take Arabic-Indic or full-width ones.
    if not isinstance(pin, str) or not re.fullmatch(r"[0-9]{6}", pin):
        raise CommandRefused("the PIN must be six digits 0-9")
    return {"PIN": pin}


def _text(key: str, value: object) -> str:
    """Text a person sees on the device: printable, and short."""
    if not isinstance(value, str) or len(value) > 200 or not is_printable(value):
        raise CommandRefused(f"{key} must be printable text of at most 200 characters")
    return value


def _device_lock(device: Device, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = _pin(device, params)
    for key, name in (("message", "Message"), ("phone_number", "PhoneNumber")):
        value = params.get(key)
        if value is not None:
            fields[name] = _text(key, value)
    unknown = set(params) - {"pin", "message", "phone_number"}
    if unknown:
        raise CommandRefused(f"unknown parameters {sorted(unknown)}")
    return fields


def _clear_passcode(device: Device, params: Mapping[str, Any]) -> dict[str, Any]:
    _no_fields(device, params)
    if not device.unlock_token:
        raise CommandRefused("the device has sent no unlock token")
    # Sent exactly as the device gave it.
    return {"UnlockToken": bytes(device.unlock_token)}


def _erase_device(device: Device, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = _pin(device, params)
    _no_fields(device, {k: v for k, v in params.items() if k != "pin"})
    return fields


COMMANDS: dict[str, Builder] = {
    "DeviceInformation": _device_information,
    "SecurityInfo": _no_fields,
    "ProfileList": _no_fields,
    "CertificateList": _no_fields,
    "InstalledApplicationList": _no_fields,
    "ProvisioningProfileList": _no_fields,
    "AvailableOSUpdates": _no_fields,
    "RestartDevice": _no_fields,
    "ShutDownDevice": _no_fields,
    "DeviceConfigured": _no_fields,
    "DeviceLock": _device_lock,
    "ClearPasscode": _clear_passcode,
    "EraseDevice": _erase_device,
}


def command_fields(
    device: Device, request_type: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of a command an admin asked for, or CommandRefused."""
    builder = COMMANDS.get(request_type)
    if builder is None:
        known = ", ".join(sorted(COMMANDS))
        raise CommandRefused(
            f"{request_type!r} cannot be queued; known commands: {known}"
        )
    return builder(device, params)
