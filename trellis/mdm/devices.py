"""Finding the device a request speaks for, and keeping its record current."""

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from trellis.audit.services import record_event
from trellis.core.errors import Refused
from trellis.enrollment.models import EnrollmentSession
from trellis.enrollment.services import mark_session_enrolled
from trellis.mdm.identity import RequestIdentity
from trellis.mdm.models import Device
from trellis.mdm.protocol import device_family
from trellis.pki.models import IssuedCertificate

logger = logging.getLogger(__name__)

# Writing last_seen on every request would cost a write per connect;
# a minute's precision is enough to tell who is alive.
LAST_SEEN_PRECISION = timedelta(seconds=60)

# Only table names are interpolated; the UDID travels as a parameter.
_BOUND_DEVICE_SQL = (
    "SELECT d.*, c.fingerprint AS bound_fingerprint, c.revoked_at AS bound_revoked_at"  # noqa: S608
    f" FROM {Device._meta.db_table} d"
    f" LEFT JOIN {IssuedCertificate._meta.db_table} c"
    " ON c.id = d.identity_certificate_id WHERE d.udid = %s"
)

# DeviceInformation query names and the Device fields they fill.
INFORMATION_FIELDS = {
    "DeviceName": "name",
    "Model": "model",
    "ModelName": "model_name",
    "ProductName": "product_name",
    "SerialNumber": "serial_number",
    "OSVersion": "os_version",
    "BuildVersion": "build_version",
}


def bound_device(
    identity: RequestIdentity, udid: str, for_update: bool = False
) -> Device:
    """Answer the device with this UDID if the request's certificate is bound to it."""
    # Every check-in and connect starts here: plain SQL spares the ORM's
    # query compilation, the largest single cost of an idle connect.
    sql = _BOUND_DEVICE_SQL
    if for_update and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF d"
    device = next(iter(Device.objects.raw(sql, [udid])), None)
    if device is None:
        raise Refused("unknown device")
    # The joined certificate columns arrive as plain attributes of the row.
    bound = vars(device)
    revoked_at = bound["bound_revoked_at"]
    if bound["bound_fingerprint"] != identity.fingerprint:
        # A revoked device stays revoked until it enrolls again from the
        # portal: its renewals are not adopted.
        renewed = renewed_identity(device, identity) if revoked_at is None else None
        if renewed is None:
            raise Refused("the signing certificate is not bound to this device")
        adopt_renewed_identity(device, renewed)
        revoked_at = renewed.revoked_at
    if revoked_at is not None:
        raise Refused("the device's identity certificate is revoked")
    return device


def renewed_identity(
    device: Device, identity: RequestIdentity
) -> IssuedCertificate | None:
    """The certificate this device's own renewal issued, if it signed the request."""
    return (
        IssuedCertificate.objects.select_related("enrollment_session")
        .filter(
            fingerprint=identity.fingerprint,
            revoked_at__isnull=True,
            enrollment_session__kind=EnrollmentSession.Kind.RENEWAL,
            enrollment_session__renewal_of=device,
            enrollment_session__status__in=[
                EnrollmentSession.Status.CERTIFICATE_ISSUED,
                EnrollmentSession.Status.ENROLLED,
            ],
        )
        .first()
    )


def adopt_renewed_identity(device: Device, renewed: IssuedCertificate) -> None:
    """Bind the device to its renewed certificate, and retire the one it replaces.

    Renewal is not a re-enrollment: the queue, tokens and installed state stay.
    """
    previous = device.identity_certificate
    device.identity_certificate = renewed
    Device.objects.filter(pk=device.pk).update(identity_certificate=renewed)
    if previous is not None and previous.pk != renewed.pk:
        IssuedCertificate.objects.filter(
            pk=previous.pk, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
    session = renewed.enrollment_session
    mark_session_enrolled(session)
    record_event(
        "device.identity_renewed",
        device,
        "device",
        udid=device.udid,
        serial=renewed.serial_number,
        not_after=renewed.not_after.isoformat(),
    )
    logger.info(
        "identity renewed udid=%s enrollment_session=%s serial=%s",
        device.udid,
        session.id,
        renewed.serial_number,
    )


def clip(field_name: str, value: str) -> str:
    """Fit a value a device reported into its Device field: no NUL, not too long."""
    field = Device._meta.get_field(field_name)
    limit = getattr(field, "max_length", None) or 255
    return value.replace("\x00", "")[:limit]


def touch(device: Device) -> None:
    """Record that the device was seen, and that it answered any push."""
    # At most one write a minute, unless the device answers a push or comes
    # back from being unresponsive.
    now = timezone.now()
    changes: dict[str, object] = {}
    if device.last_seen is None or now - device.last_seen >= LAST_SEEN_PRECISION:
        changes["last_seen"] = now
    if device.push_unanswered_since is not None:
        changes["push_unanswered_since"] = None
        changes["last_seen"] = now
    if device.status == Device.Status.UNRESPONSIVE:
        changes["status"] = Device.Status.ENROLLED
    if changes:
        Device.objects.filter(pk=device.pk).update(**changes)
        for name, value in changes.items():
            setattr(device, name, value)


def apply_device_information(device: Device, responses: Mapping[str, Any]) -> list[str]:
    """Copy DeviceInformation answers onto the device; answer the fields changed."""
    changed = []
    for query, field_name in INFORMATION_FIELDS.items():
        value = responses.get(query)
        if not isinstance(value, str):
            continue
        value = clip(field_name, value)
        if getattr(device, field_name) != value:
            setattr(device, field_name, value)
            changed.append(field_name)
    family = device_family(device.product_name, device.model, device.model_name)
    if family and family != device.device_family:
        device.device_family = family
        changed.append("device_family")
    if changed:
        device.save(update_fields=changed)
    return changed


def identity_state(device: Device) -> str:
    """How the device's identity stands, in words for the admin."""
    certificate = device.identity_certificate
    if certificate is None:
        return "none"
    if certificate.revoked_at is not None:
        return "revoked"
    now = timezone.now()
    if certificate.not_after <= now:
        return "expired: re-enroll the device"
    if certificate.not_after - now < timedelta(
        days=settings.TRELLIS_IDENTITY_RENEWAL_DAYS
    ):
        return "expiring: renewal under way"
    return "valid"
