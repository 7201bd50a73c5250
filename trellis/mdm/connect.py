"""The connect protocol: a device reports a command's outcome and asks for the next."""

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from trellis.core.errors import Refused
from trellis.mdm.commands import mark_sent, next_command
from trellis.mdm.devices import apply_device_information, bound_device, touch
from trellis.mdm.identity import RequestIdentity
from trellis.mdm.models import Command, Device
from trellis.mdm.protocol import ConnectMessage, query_responses

logger = logging.getLogger(__name__)

ANSWER_STATUSES = {
    "Acknowledged": Command.Status.ACKNOWLEDGED,
    "Error": Command.Status.ERROR,
    "CommandFormatError": Command.Status.ERROR,
    "NotNow": Command.Status.NOT_NOW,
}


@transaction.atomic
def handle_connect(
    identity: RequestIdentity, message: ConnectMessage, body: bytes
) -> bytes:
    """Record the device's answer, if any, and answer its next command (or b"")."""
    device = bound_device(identity, message.udid)
    if device.status not in Device.MANAGED:
        raise Refused("the device is not enrolled")
    if message.user_id is not None:
        return b""  # user channels have no commands
    touch(device)

    if message.status != "Idle" and message.command_uuid:
        record_answer(device, message, body)

    command = next_command(device, include_not_now=message.status == "Idle")
    if command is None:
        return b""
    mark_sent(command)
    logger.info(
        "command sent udid=%s command_uuid=%s request_type=%s",
        device.udid,
        command.uuid,
        command.request_type,
    )
    return bytes(command.payload)


def record_answer(device: Device, message: ConnectMessage, body: bytes) -> None:
    """Store the device's answer to one of its commands."""
    try:
        command_uuid = uuid.UUID(message.command_uuid or "")
    except ValueError:
        logger.warning("answer with a malformed CommandUUID udid=%s", device.udid)
        return
    command = (
        Command.objects.filter(
            device_id=device.pk, uuid=command_uuid, status__in=Command.DELIVERABLE
        )
        .only("id", "request_type", "status")
        .first()
    )
    if command is None:
        logger.warning(
            "answer to an unknown or finished command udid=%s command_uuid=%s",
            device.udid,
            command_uuid,
        )
        return

    status = ANSWER_STATUSES[message.status]
    Command.objects.filter(pk=command.pk).update(
        status=status, result=body, responded_at=timezone.now()
    )
    logger.info(
        "command answered udid=%s command_uuid=%s status=%s",
        device.udid,
        command_uuid,
        message.status,
    )
    if (
        status == Command.Status.ACKNOWLEDGED
        and command.request_type == "DeviceInformation"
    ):
        apply_device_information(device, query_responses(message.fields))
