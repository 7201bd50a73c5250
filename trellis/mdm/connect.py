"""The connect protocol: a device reports a command's outcome and asks for the next."""

import logging
import re
import uuid
import zlib

from django.db import transaction
from django.utils import timezone

from trellis.core.errors import BadMessage, Refused
from trellis.mdm.commands import mark_sent, next_command
from trellis.mdm.devices import apply_device_information, bound_device, touch
from trellis.mdm.identity import RequestIdentity
from trellis.mdm.models import Command, Device
from trellis.mdm.protocol import Answer, ConnectMessage, query_responses

logger = logging.getLogger(__name__)

ANSWER_STATUSES = {
    "Acknowledged": Command.Status.ACKNOWLEDGED,
    "Error": Command.Status.ERROR,
    "CommandFormatError": Command.Status.ERROR,
    "NotNow": Command.Status.NOT_NOW,
}

# Results larger than this are kept compressed.
COMPRESS_ABOVE = 4096

_COMMAND_UUID = re.compile(
    rb"<key>CommandUUID</key>\s*<string>([0-9A-Fa-f-]{36})</string>"
)


@transaction.atomic
def handle_connect(
    identity: RequestIdentity, message: ConnectMessage, body: bytes
) -> Answer:
    """Record the device's answer, if any, and answer its next command."""
    # The device's row is locked for the request: two requests of one device
    # at once must not both take the same command or cross their answers.
    device = bound_device(identity, message.udid, for_update=True)
    if device.status not in Device.MANAGED:
        raise Refused("the device is not enrolled")
    if message.user_id is not None:
        return Answer()  # user channels have no commands
    touch(device)

    if message.status != "Idle" and message.command_uuid:
        record_answer(device, message, body)

    return _next(device, include_not_now=message.status == "Idle")


@transaction.atomic
def handle_unreadable_answer(identity: RequestIdentity, body: bytes) -> Answer:
    """Keep an answer that is not a readable message, and move the queue on.

    A result nobody can read must not block the device: if the body names a
    command this device was sent, the command keeps the raw answer and is
    marked as an error; the device gets its next command.
    """
    # The device is found by its certificate, which must be bound and
    # unrevoked exactly as for a readable message.
    device = (
        Device.objects.select_for_update(of=("self",))
        .select_related("identity_certificate")
        .filter(identity_certificate__fingerprint=identity.fingerprint)
        .first()
    )
    if device is None or device.identity_certificate is None:
        raise Refused("the signing certificate is not bound to a device")
    if device.identity_certificate.revoked_at is not None:
        raise Refused("the device's identity certificate is revoked")
    if device.status not in Device.MANAGED:
        raise Refused("the device is not enrolled")
    match = _COMMAND_UUID.search(body[:65536]) or _COMMAND_UUID.search(body[-65536:])
    if match is None:
        raise BadMessage("unreadable connect body")
    command = _sent_command(device, match.group(1).decode())
    if command is None:
        raise BadMessage("unreadable connect body for no known command")
    _store(
        command,
        Command.Status.ERROR,
        body,
        "the answer is not a readable property list",
    )
    return _next(device, include_not_now=False)


def record_answer(device: Device, message: ConnectMessage, body: bytes) -> None:
    """Store the device's answer to one of its commands."""
    command = _sent_command(device, message.command_uuid or "")
    if command is None:
        logger.warning(
            "answer to an unknown or finished command udid=%s command_uuid=%s",
            device.udid,
            message.command_uuid,
        )
        return

    status = ANSWER_STATUSES[message.status]
    problem = ""
    if (
        status == Command.Status.ACKNOWLEDGED
        and command.request_type == "DeviceInformation"
    ):
        responses = message.fields.get("QueryResponses")
        if isinstance(responses, dict):
            apply_device_information(device, query_responses(message.fields))
        else:
            problem = "QueryResponses is missing or not a dictionary"
    _store(command, status, body, problem)
    logger.info(
        "command answered udid=%s command_uuid=%s status=%s",
        device.udid,
        command.uuid,
        message.status,
    )


def _next(device: Device, include_not_now: bool) -> Answer:
    command = next_command(device, include_not_now)
    if command is None:
        return Answer()
    mark_sent(command)
    logger.info(
        "command sent udid=%s command_uuid=%s request_type=%s",
        device.udid,
        command.uuid,
        command.request_type,
    )
    return Answer(bytes(command.payload), "application/xml")


def _sent_command(device: Device, command_uuid: str) -> Command | None:
    try:
        parsed = uuid.UUID(command_uuid)
    except ValueError:
        return None
    return (
        Command.objects.filter(
            device_id=device.pk, uuid=parsed, status__in=Command.DELIVERABLE
        )
        .only("id", "uuid", "request_type", "status")
        .first()
    )


def _store(command: Command, status: str, body: bytes, problem: str) -> None:
    compressed = len(body) > COMPRESS_ABOVE
    Command.objects.filter(pk=command.pk).update(
        status=status,
        result=zlib.compress(body, 6) if compressed else body,
        result_compressed=compressed,
        problem=problem,
        responded_at=timezone.now(),
        # A device that answered, even NotNow, has not ignored the command.
        attempts=0,
    )
