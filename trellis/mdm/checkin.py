"""The check-in protocol: Authenticate, TokenUpdate and CheckOut.

A device's check-in binds its identity certificate (issued over SCEP for
one enrollment session) to its UDID at Authenticate; every later message
must be signed by that certificate.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.apns.services import current_push_certificate
from trellis.audit.services import record_event
from trellis.core.errors import BadMessage, Gone, Refused
from trellis.enrollment.models import EnrollmentSession
from trellis.enrollment.services import mark_session_enrolled, session_may_enroll
from trellis.mdm.bootstrap import get_bootstrap_token, set_bootstrap_token
from trellis.mdm.commands import cancel_pending_commands, enqueue_command
from trellis.mdm.declarative import declarative_answer
from trellis.mdm.devices import adopt_renewed_identity, bound_device, clip
from trellis.mdm.identity import RequestIdentity
from trellis.mdm.models import Device
from trellis.mdm.protocol import (
    Answer,
    CheckinMessage,
    device_family,
    device_information_fields,
    text_value,
)
from trellis.pki.models import IssuedCertificate

logger = logging.getLogger(__name__)

# Authenticate keys and the Device fields they fill.
AUTHENTICATE_FIELDS = {
    "SerialNumber": "serial_number",
    "Model": "model",
    "ModelName": "model_name",
    "ProductName": "product_name",
    "OSVersion": "os_version",
    "BuildVersion": "build_version",
    "DeviceName": "name",
}


def handle_checkin(identity: RequestIdentity, message: CheckinMessage) -> Answer:
    """Act on one check-in message; answer what the device is to be told."""
    if message.message_type == "UserAuthenticate":
        # Apple's way to decline a user channel: 410, and the device channel
        # carries on undisturbed.
        raise Gone("user channels are not managed")
    if message.is_user_channel:
        # Nothing is managed on user channels; accepting their messages keeps
        # the device channel undisturbed. They must still come from the device.
        bound_device(identity, message.udid)
        logger.info(
            "user channel message ignored udid=%s type=%s",
            message.udid,
            message.message_type,
        )
        return Answer()
    if message.message_type == "DeclarativeManagement":
        bound_device(identity, message.udid)
        return declarative_answer(str(message.fields.get("Endpoint", "")))
    handlers: dict[str, Callable[[RequestIdentity, CheckinMessage], object]] = {
        "Authenticate": authenticate,
        "TokenUpdate": token_update,
        "CheckOut": check_out,
        "SetBootstrapToken": set_bootstrap_token,
    }
    if message.message_type == "GetBootstrapToken":
        return get_bootstrap_token(identity, message)
    handler = handlers.get(message.message_type)
    if handler is None:
        raise BadMessage(f"{message.message_type} is not supported")
    handler(identity, message)
    return Answer()


@transaction.atomic
def authenticate(identity: RequestIdentity, message: CheckinMessage) -> Device:
    """Bind the certificate to the UDID and (re)start the device's enrollment.

    A UDID seen before is a device re-enrolling (after a wipe or a profile
    reinstall): everything queued for its earlier enrollment is cancelled,
    so nothing from before reaches the new enrollment first.
    """
    issued = (
        IssuedCertificate.objects.select_related(
            "enrollment_session__enrollment_code",
            "enrollment_session__blueprint",
            "enrollment_session__renewal_of",
        )
        .filter(fingerprint=identity.fingerprint)
        .first()
    )
    if issued is None or issued.revoked_at is not None:
        raise Refused("the certificate belongs to no enrollment")
    session = getattr(issued, "enrollment_session", None)
    if session is None:
        raise Refused("the certificate belongs to no enrollment")
    _check_topic(message.topic)
    if session.status == EnrollmentSession.Status.ENROLLED:
        bound = Device.objects.filter(identity_certificate=issued).first()
        if bound is None or bound.udid != message.udid:
            raise Refused("the certificate is bound to another device")
        # A device re-enrolls with a new profile, hence a new certificate. The
        # same certificate again is a retry or a replay: it must not wipe the
        # device's tokens and queue.
        logger.info("Authenticate repeated udid=%s", bound.udid)
        return bound
    if not session_may_enroll(session):
        raise Refused(
            "the enrollment code changed, the Blueprint closed or the profile expired"
        )
    if session.kind == EnrollmentSession.Kind.RENEWAL:
        return _authenticate_renewal(session, issued, message)

    device, re_enrolled = _reset_device(message, session, issued)
    mark_session_enrolled(session)
    record_event(
        "device.authenticated",
        device,
        "device",
        udid=device.udid,
        blueprint=session.blueprint_id,
        enrollment_session=str(session.id),
        re_enrollment=re_enrolled,
    )
    logger.info(
        "Authenticate udid=%s enrollment_session=%s blueprint=%s re_enrollment=%s",
        device.udid,
        session.id,
        session.blueprint_id,
        re_enrolled,
    )
    return device


@transaction.atomic
def token_update(identity: RequestIdentity, message: CheckinMessage) -> Device:
    """Store the push token; the first one completes the enrollment."""
    device = bound_device(identity, message.udid, for_update=True)
    if device.status == Device.Status.UNENROLLED:
        raise Refused("the device checked out")
    token = message.fields.get("Token")
    push_magic = text_value(message.fields.get("PushMagic"), 255)
    if not isinstance(token, bytes) or not 0 < len(token) <= 512 or not push_magic:
        raise BadMessage(
            "TokenUpdate needs Token (data) and PushMagic (a short string)"
        )
    if device.topic and message.topic != device.topic:
        raise Refused("TokenUpdate for another topic")

    device.push_token = token
    device.push_magic = push_magic
    # A fresh token is worth pushing to again, whatever APNs said of the old one.
    device.push_token_invalid_at = None
    unlock_token = message.fields.get("UnlockToken")
    if isinstance(unlock_token, bytes):
        device.unlock_token = unlock_token
    device.awaiting_configuration = message.fields.get("AwaitingConfiguration") is True
    first = device.status == Device.Status.PENDING
    if first:
        device.status = Device.Status.ENROLLED
        device.enrolled_at = timezone.now()
    device.last_seen = timezone.now()
    device.save()

    if first:
        enqueue_command(device, "DeviceInformation", device_information_fields())
        record_event(
            "device.enrolled",
            device,
            "device",
            udid=device.udid,
            blueprint=device.blueprint_id,
        )
    logger.info("TokenUpdate udid=%s first=%s", device.udid, first)
    return device


@transaction.atomic
def check_out(identity: RequestIdentity, message: CheckinMessage) -> Device:
    """The MDM profile was removed: the device is no longer managed."""
    device = bound_device(identity, message.udid, for_update=True)
    device.status = Device.Status.UNENROLLED
    device.unenrolled_at = timezone.now()
    device.last_seen = device.unenrolled_at
    # Nothing of the old management relationship is kept usable.
    device.push_token = None
    device.push_magic = ""
    device.unlock_token = None
    device.bootstrap_token = None
    device.push_requested_at = None
    device.save(
        update_fields=[
            "status",
            "unenrolled_at",
            "last_seen",
            "push_token",
            "push_magic",
            "unlock_token",
            "bootstrap_token",
            "push_requested_at",
        ]
    )
    cancelled = cancel_pending_commands(device)
    record_event(
        "device.checked_out",
        device,
        "device",
        udid=device.udid,
        cancelled_commands=cancelled,
    )
    logger.info("CheckOut udid=%s cancelled_commands=%s", device.udid, cancelled)
    return device


def _authenticate_renewal(
    session: EnrollmentSession, issued: IssuedCertificate, message: CheckinMessage
) -> Device:
    device = session.renewal_of
    if device is None or device.udid != message.udid:
        raise Refused("a renewal certificate of another device")
    adopt_renewed_identity(device, issued)
    return device


def _check_topic(topic: str) -> None:
    push_certificate = current_push_certificate()
    if push_certificate is not None and topic != push_certificate.topic:
        raise Refused("Authenticate for a topic that is not Trellis's")


def _reset_device(
    message: CheckinMessage, session: EnrollmentSession, issued: IssuedCertificate
) -> tuple[Device, bool]:
    now = timezone.now()
    reset: dict[str, Any] = {
        "blueprint": session.blueprint,
        "status": Device.Status.PENDING,
        "push_token": None,
        "push_magic": "",
        "unlock_token": None,
        "bootstrap_token": None,
        "awaiting_configuration": False,
        "push_token_invalid_at": None,
        "push_unanswered_since": None,
        "topic": message.topic,
        "identity_certificate": issued,
        "enrollment_session": session,
        "enrolled_at": None,
        "unenrolled_at": None,
        "last_seen": now,
    }
    for key, field_name in AUTHENTICATE_FIELDS.items():
        value = message.fields.get(key)
        if isinstance(value, str):
            reset[field_name] = clip(field_name, value)

    try:
        with transaction.atomic():
            device, created = Device.objects.select_for_update().get_or_create(
                udid=message.udid, defaults=reset
            )
    except IntegrityError:
        # Another Authenticate for this UDID created the row first.
        device, created = (
            Device.objects.select_for_update().get(udid=message.udid),
            False,
        )

    if not created:
        cancel_pending_commands(device)
        for field_name, value in reset.items():
            setattr(device, field_name, value)
    family = device_family(device.product_name, device.model, device.model_name)
    if family:
        device.device_family = family
    device.save()
    return device, not created
