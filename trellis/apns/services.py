"""The push certificate's lifecycle: request, install, renew, warn before expiry."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from trellis.apns import keys
from trellis.apns.certificates import (
    PushCertificateError,
    PushIdentity,
    create_signing_request,
    key_matches,
    load_certificate,
    read_push_identity,
)
from trellis.apns.models import PushCertificate, PushCertificateRequest
from trellis.audit.services import record_event
from trellis.core.sealing import seal_text
from trellis.mdm.models import Device

logger = logging.getLogger(__name__)


class TopicChangeRefused(Exception):
    """A certificate for another topic would cut enrolled devices off from pushes."""

    def __init__(self, current: str, new: str, devices: int) -> None:
        super().__init__(
            f"This certificate is for topic {new}, but {devices} enrolled device(s) "
            f"use {current}: they would stop receiving pushes and need to re-enroll. "
            "Renew the certificate for the same topic (the same Apple ID), or confirm "
            "the replacement."
        )
        self.current = current
        self.new = new
        self.devices = devices


@dataclass(frozen=True)
class ExpiryWarning:
    """What admins are told about the push certificate."""

    level: str
    message: str


def create_push_certificate_request(
    common_name: str, email: str = "", actor: str = "system"
) -> PushCertificateRequest:
    """Generate and keep a private key; answer it with its CSR for Apple's process."""
    generated = create_signing_request(common_name, email)
    request = PushCertificateRequest.objects.create(
        sealed_private_key=seal_text(generated.private_key_pem),
        csr_pem=generated.csr_pem,
        created_by=actor,
    )
    record_event("apns.csr_created", request, actor, common_name=common_name)
    return request


def check_push_certificate(
    certificate_pem: str,
    private_key_pem: str | None,
    confirm_topic_change: bool = False,
) -> tuple[PushIdentity, PushCertificateRequest | None]:
    """Check everything an upload must satisfy, writing nothing.

    Without a key, the key Trellis generated for a CSR is used. A certificate
    for another topic than the current one is refused while devices use the
    current topic, unless the replacement is confirmed.
    """
    request = None
    if private_key_pem is None:
        request = _request_for(certificate_pem)
        private_key_pem = keys.private_key_pem(request)
    identity = read_push_identity(certificate_pem, private_key_pem)
    current = current_push_certificate()
    if (
        current is not None
        and current.topic != identity.topic
        and not confirm_topic_change
    ):
        devices = devices_on_topic(current.topic)
        if devices:
            raise TopicChangeRefused(current.topic, identity.topic, devices)
    return identity, request


@transaction.atomic
def install_push_certificate(
    certificate_pem: str,
    private_key_pem: str | None = None,
    actor: str = "system",
    confirm_topic_change: bool = False,
) -> PushCertificate:
    """Check a push certificate and make it the one in use, at once, everywhere."""
    identity, request = check_push_certificate(
        certificate_pem, private_key_pem, confirm_topic_change
    )
    current = current_push_certificate()

    installed = PushCertificate.objects.create(
        topic=identity.topic,
        serial_number=identity.serial_number,
        not_after=identity.not_after,
        certificate_pem=identity.certificate_pem,
        sealed_private_key=seal_text(identity.private_key_pem),
        uploaded_by=actor,
    )
    if request is not None:
        PushCertificateRequest.objects.filter(pk=request.pk).update(
            used_at=timezone.now()
        )
    renewal = current is not None and current.topic == identity.topic
    record_event(
        "apns.certificate_renewed" if renewal else "apns.certificate_installed",
        installed,
        actor,
        topic=identity.topic,
        not_after=identity.not_after.isoformat(),
        replaced_topic=current.topic if current and not renewal else None,
    )
    logger.info(
        "push certificate installed topic=%s not_after=%s renewal=%s",
        identity.topic,
        identity.not_after,
        renewal,
    )
    return installed


def current_push_certificate() -> PushCertificate | None:
    """Answer the push certificate in use, expired or not, if any was installed."""
    return PushCertificate.objects.order_by("-uploaded_at", "-id").first()


def valid_push_certificate() -> PushCertificate | None:
    """Answer the push certificate in use if it is present and unexpired."""
    current = current_push_certificate()
    if current is None or not current.is_valid:
        return None
    return current


def devices_on_topic(topic: str) -> int:
    """How many managed devices receive pushes on this topic."""
    return Device.objects.filter(topic=topic, status__in=Device.MANAGED).count()


def expiry_warning(certificate: PushCertificate | None) -> ExpiryWarning | None:
    """What admins must be told about this certificate, if anything."""
    if certificate is None:
        return None
    if not certificate.is_valid:
        return ExpiryWarning(
            "error",
            f"The push certificate for {certificate.topic} expired on "
            f"{certificate.not_after:%Y-%m-%d}. Devices get no pushes and the "
            "enrollment portal is closed until it is renewed.",
        )
    if certificate.problem:
        return ExpiryWarning(
            "error",
            f"Apple refused the push certificate ({certificate.problem}). "
            "Check that it is the current one for this topic, or renew it.",
        )
    if certificate.days_left < settings.TRELLIS_PUSH_WARNING_DAYS:
        return ExpiryWarning(
            "warning",
            f"The push certificate for {certificate.topic} expires on "
            f"{certificate.not_after:%Y-%m-%d} ({certificate.days_left} days left). "
            "Renew it with the same Apple ID so that devices keep their topic.",
        )
    return None


def notify_expiry() -> bool:
    """Log and e-mail the expiry warning, at most once a day; answer whether it went."""
    certificate = current_push_certificate()
    warning = expiry_warning(certificate)
    if certificate is None or warning is None:
        return False
    today = timezone.now().date()
    claimed = (
        PushCertificate.objects.filter(pk=certificate.pk)
        .exclude(expiry_warned_on=today)
        .update(expiry_warned_on=today)
    )
    if not claimed:
        return False
    logger.warning("push certificate needs attention: %s", warning.message)
    if settings.TRELLIS_ADMIN_EMAILS:
        send_mail(
            subject="Trellis: the Apple push certificate needs renewing",
            message=warning.message,
            from_email=None,
            recipient_list=settings.TRELLIS_ADMIN_EMAILS,
            fail_silently=False,
        )
    record_event("apns.expiry_warned", certificate, "system", message=warning.message)
    return True


def _request_for(certificate_pem: str) -> PushCertificateRequest:
    load_certificate(certificate_pem)  # an unreadable certificate is told as such
    for request in PushCertificateRequest.objects.all()[:20]:
        if key_matches(certificate_pem, keys.private_key_pem(request)):
            return request
    raise PushCertificateError(
        "No private key was given, and none of the keys Trellis generated for a "
        "CSR belongs to this certificate. Upload the key too, or request a new CSR."
    )
