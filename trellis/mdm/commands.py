"""The command queue: queuing, finding the next command, cancelling."""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from trellis.apns.delivery import request_push
from trellis.audit.services import record_event
from trellis.mdm.models import Command, Device
from trellis.mdm.protocol import build_command

logger = logging.getLogger(__name__)


def _next_sql(waiting: str) -> str:
    # The first condition matches the partial index on deliverable commands.
    # Only constants are interpolated; values travel as parameters.
    return (
        "SELECT id, uuid, payload, request_type, status, attempts"  # noqa: S608
        f" FROM {Command._meta.db_table}"
        " WHERE device_id = %s AND status IN ('queued', 'sent', 'not_now')"
        f" AND (status IN ({waiting}) OR (status = 'sent' AND sent_at <= %s))"
        " ORDER BY id LIMIT 1"
    )


_NEXT_SQL = _next_sql("'queued'")
_NEXT_WITH_NOT_NOW_SQL = _next_sql("'queued', 'not_now'")


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
    A command sent but never answered is sent again once the redelivery
    window has passed (so two requests of one device at once do not both
    get it), up to a limit: then it is given up as an error, so that no
    command blocks the queue forever.
    """
    window = timedelta(seconds=settings.TRELLIS_COMMAND_REDELIVERY_SECONDS)
    sql = _NEXT_WITH_NOT_NOW_SQL if include_not_now else _NEXT_SQL
    while True:
        # Plain SQL on the connect hot path; see bound_device.
        params = [device.pk, timezone.now() - window]
        command = next(iter(Command.objects.raw(sql, params)), None)
        if command is None or command.attempts < settings.TRELLIS_COMMAND_MAX_ATTEMPTS:
            return command
        give_up(command, f"no answer after {command.attempts} deliveries")


def mark_sent(command: Command) -> None:
    """Record that the command is on its way to the device."""
    Command.objects.filter(pk=command.pk).update(
        status=Command.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1
    )


def give_up(command: Command, problem: str) -> None:
    """Stop delivering a command that cannot get an answer."""
    Command.objects.filter(pk=command.pk).update(
        status=Command.Status.ERROR, problem=problem[:255], responded_at=timezone.now()
    )
    logger.warning("command given up command_uuid=%s problem=%s", command.uuid, problem)


def cancel_command(command: Command, actor: str) -> bool:
    """Cancel a command not yet answered; the row stays for the record."""
    cancelled = Command.objects.filter(
        pk=command.pk, status__in=Command.DELIVERABLE
    ).update(status=Command.Status.CANCELLED)
    if cancelled:
        record_event(
            "command.cancelled",
            command.device,
            actor,
            command_uuid=str(command.uuid),
            request_type=command.request_type,
        )
    return bool(cancelled)


def skip_head_command(device: Device, actor: str) -> Command | None:
    """Cancel the command at the head of the device's queue, the one that blocks it."""
    head = (
        Command.objects.filter(device=device, status__in=Command.DELIVERABLE)
        .order_by("id")
        .first()
    )
    if head is None or not cancel_command(head, actor):
        return None
    return head


def cancel_pending_commands(device: Device) -> int:
    """Cancel every command not yet answered; the rows stay for the record."""
    return Command.objects.filter(device=device, status__in=Command.DELIVERABLE).update(
        status=Command.Status.CANCELLED
    )


def expire_old_commands() -> int:
    """Expire commands that waited longer than the configured age."""
    cutoff = timezone.now() - timedelta(days=settings.TRELLIS_COMMAND_EXPIRY_DAYS)
    return Command.objects.filter(
        status__in=Command.DELIVERABLE, created_at__lt=cutoff
    ).update(status=Command.Status.EXPIRED)
