"""Revoking a device's identity: its certificate stops opening Trellis's doors."""

import logging

from django.db import transaction
from django.utils import timezone

from trellis.audit.services import record_event
from trellis.enrollment.models import EnrollmentSession
from trellis.mdm.models import Command, Device
from trellis.pki.models import IssuedCertificate

logger = logging.getLogger(__name__)


class NoIdentity(Exception):
    """The device has no identity certificate to revoke."""

    status = 409


@transaction.atomic
def revoke_identity(device: Device, actor: str) -> IssuedCertificate:
    """Revoke the device's identity certificate; answer it, revoked.

    From then on every check-in and connect made with it is refused (403),
    and the device is no longer pushed. Revoking twice changes nothing: the
    first time is kept. A new enrollment (a new profile, hence a new
    certificate) brings the device back.
    """
    certificate = device.identity_certificate
    if certificate is None:
        raise NoIdentity("The device has no identity certificate.")
    newly = IssuedCertificate.objects.filter(
        pk=certificate.pk, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    certificate.refresh_from_db(fields=["revoked_at"])
    if newly:
        _stop_renewals(device)
        record_event(
            "device.identity_revoked",
            device,
            actor,
            udid=device.udid,
            serial_number=certificate.serial_number,
            fingerprint=certificate.fingerprint,
        )
        logger.info(
            "identity revoked udid=%s serial=%s actor=%s",
            device.udid,
            certificate.serial_number,
            actor,
        )
    return certificate


def _stop_renewals(device: Device) -> None:
    """End the device's renewals under way: a revoked device must not renew."""
    sessions = EnrollmentSession.objects.filter(
        renewal_of=device,
        status__in=[
            EnrollmentSession.Status.DOWNLOADED,
            EnrollmentSession.Status.CERTIFICATE_ISSUED,
        ],
    )
    commands = [
        uuid for uuid in sessions.values_list("command_uuid", flat=True) if uuid
    ]
    sessions.update(expires_at=timezone.now())
    Command.objects.filter(uuid__in=commands, status__in=Command.DELIVERABLE).update(
        status=Command.Status.CANCELLED
    )
    # A certificate a renewal already issued is revoked with the identity.
    IssuedCertificate.objects.filter(
        enrollment_session__renewal_of=device, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
