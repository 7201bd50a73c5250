"""Renewing device identities before they expire.

Well before a device's identity certificate expires, Trellis queues an
InstallProfile command carrying the enrollment profile again with a fresh
one-time challenge. The device replaces its MDM profile in place, gets a new
certificate over SCEP, and its next requests are signed with it; Trellis
then moves the device's binding to the new certificate (see
``trellis.mdm.devices.adopt_renewed_identity``).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trellis.audit.services import record_event
from trellis.enrollment.models import EnrollmentSession
from trellis.enrollment.services import start_renewal
from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Command, Device

logger = logging.getLogger(__name__)

# A renewal whose command ended so has failed, and is started again.
FAILED_COMMAND = (
    Command.Status.ERROR,
    Command.Status.CANCELLED,
    Command.Status.EXPIRED,
)


@transaction.atomic
def start_identity_renewal(device: Device, actor: str = "system") -> Command:
    """Queue the profile that renews the device's identity."""
    session, profile = start_renewal(device)
    command = enqueue_command(device, "InstallProfile", {"Payload": profile})
    EnrollmentSession.objects.filter(pk=session.pk).update(command_uuid=command.uuid)
    record_event(
        "device.identity_renewal_started",
        device,
        actor,
        udid=device.udid,
        enrollment_session=str(session.id),
        command_uuid=str(command.uuid),
    )
    logger.info(
        "identity renewal queued udid=%s enrollment_session=%s", device.udid, session.id
    )
    return command


def renewal_in_progress(device: Device) -> bool:
    """Answer whether a renewal of this device may still succeed."""
    sessions = EnrollmentSession.objects.filter(
        renewal_of=device,
        kind=EnrollmentSession.Kind.RENEWAL,
        status__in=[
            EnrollmentSession.Status.DOWNLOADED,
            EnrollmentSession.Status.CERTIFICATE_ISSUED,
        ],
        expires_at__gt=timezone.now(),
    ).values_list("command_uuid", flat=True)
    for command_uuid in sessions:
        if command_uuid is None:
            continue
        failed = Command.objects.filter(
            uuid=command_uuid, status__in=FAILED_COMMAND
        ).exists()
        if not failed:
            return True
    return False


def devices_due_for_renewal() -> list[Device]:
    """Managed devices whose identity expires within the renewal window."""
    now = timezone.now()
    window = now + timedelta(days=settings.TRELLIS_IDENTITY_RENEWAL_DAYS)
    candidates = Device.objects.select_related("identity_certificate").filter(
        status__in=Device.MANAGED,
        identity_certificate__not_after__gt=now,
        identity_certificate__not_after__lt=window,
        identity_certificate__revoked_at__isnull=True,
    )
    return [device for device in candidates if not renewal_in_progress(device)]


def renew_expiring_identities() -> int:
    """Start a renewal for every device that needs one and has none under way.

    A renewal the device answered with Error, or that was cancelled or
    expired, is not under way any more, so the next run starts another.
    """
    due = devices_due_for_renewal()
    for device in due:
        start_identity_renewal(device)
    return len(due)
