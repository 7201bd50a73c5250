"""Installing and reading the push certificate."""

import logging

from trellis.apns.certificates import read_push_identity
from trellis.apns.models import PushCertificate
from trellis.audit.services import record_event

logger = logging.getLogger(__name__)


def install_push_certificate(
    certificate_pem: str, private_key_pem: str, actor: str = "system"
) -> PushCertificate:
    """Check a certificate and key pair and make it the push identity in use."""
    identity = read_push_identity(certificate_pem, private_key_pem)
    installed = PushCertificate.objects.create(
        topic=identity.topic,
        not_after=identity.not_after,
        certificate_pem=identity.certificate_pem,
        private_key_pem=identity.private_key_pem,
    )
    record_event(
        "apns.certificate_installed",
        installed,
        actor,
        topic=identity.topic,
        not_after=identity.not_after.isoformat(),
    )
    logger.info(
        "push certificate installed topic=%s not_after=%s",
        identity.topic,
        identity.not_after,
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
