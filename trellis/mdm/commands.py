"""Queuing commands for devices and finding the next one to send."""

import logging
import uuid
from typing import Any

from django.utils import timezone

from trellis.apns.delivery import request_push
from trellis.mdm.models import Command, Device
from trellis.mdm.protocol import build_command

logger = logging.getLogger(__name__)


def enqueue_command(
    device: Device, request_type: str, fields: dict[str, Any] | None = None
) -> Command:
    """Queue a command for the device and ask for a push to fetch it."""
    command_uuid = uuid.uuid4()
    command = Command.objects.create(
        uuid=command_uuid,
        device=device,
        request_type=request_type,
        payload=build_command(request_type, command_uuid, **(fields or {})),
    )
    logger.info(
        "command queued udid=%s command_uuid=%s request_type=%s",
        device.udid,
        command_uuid,
        request_type,
    )
    request_push([device.pk])
    return command


def next_command(device: Device, include_not_now: bool) -> Command | None:
    """Answer the device's oldest command that may be sent now.

    A command the device answered NotNow is offered again only when the
    device starts a new session with Idle; within the session that said
    NotNow it is skipped, so the device is not asked again straight away.
    A command sent but never answered is sent again.
    """
    statuses = [Command.Status.QUEUED, Command.Status.SENT]
    if include_not_now:
        statuses.append(Command.Status.NOT_NOW)
    return (
        Command.objects.filter(device_id=device.pk, status__in=statuses)
        .only("id", "uuid", "payload", "request_type", "status")
        .order_by("id")
        .first()
    )


def mark_sent(command: Command) -> None:
    """Record that the command is on its way to the device."""
    Command.objects.filter(pk=command.pk).update(
        status=Command.Status.SENT, sent_at=timezone.now()
    )


def cancel_pending_commands(device: Device) -> int:
    """Cancel every command not yet answered; the rows stay for the record."""
    return Command.objects.filter(device=device, status__in=Command.DELIVERABLE).update(
        status=Command.Status.CANCELLED
    )
