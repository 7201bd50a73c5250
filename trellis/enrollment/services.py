"""The enrollment portal's steps: gate, start a session, sign its profile."""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trellis.apns.services import valid_push_certificate
from trellis.audit.services import record_event
from trellis.blueprints.models import EnrollmentCode
from trellis.enrollment.challenges import challenge_digest, generate_challenge
from trellis.enrollment.models import EnrollmentPortal, EnrollmentSession
from trellis.enrollment.profile import EnrollmentProfileSpec, build_enrollment_profile
from trellis.mdm.models import Device
from trellis.pki.authority import get_authority, get_profile_signer
from trellis.pki.cms import sign_attached
from trellis.pki.models import IssuedCertificate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileDownload:
    """A signed enrollment profile ready to hand to the person who asked."""

    session: EnrollmentSession
    filename: str
    content: bytes


def portal_url() -> str:
    """Answer the portal's public address."""
    return f"{settings.TRELLIS_BASE_URL}/enroll"


def portal_is_open() -> bool:
    """Answer whether the portal exists: on, unlocked, with a valid push certificate."""
    portal = EnrollmentPortal.load()
    return portal.enabled and not portal.locked and valid_push_certificate() is not None


def set_portal_enabled(enabled: bool, actor: str = "system") -> EnrollmentPortal:
    """Switch the portal on or off."""
    portal = EnrollmentPortal.load()
    if portal.enabled != enabled:
        portal.enabled = enabled
        portal.save(update_fields=["enabled", "updated_at"])
        record_event("portal.enabled" if enabled else "portal.disabled", portal, actor)
        logger.info("enrollment portal switched enabled=%s", enabled)
    return portal


def set_portal_locked(locked: bool, actor: str = "system") -> EnrollmentPortal:
    """Lock the portal, closing it whatever its switch says, or unlock it."""
    portal = EnrollmentPortal.load()
    if portal.locked != locked:
        portal.locked = locked
        portal.save(update_fields=["locked", "updated_at"])
        record_event("portal.locked" if locked else "portal.unlocked", portal, actor)
        logger.info("enrollment portal locked=%s actor=%s", locked, actor)
    return portal


@transaction.atomic
def start_enrollment(
    code: EnrollmentCode, client_ip: str | None, user_agent: str
) -> ProfileDownload:
    """Open an enrollment session for the code's Blueprint and sign its profile."""
    push_certificate = valid_push_certificate()
    if push_certificate is None:
        raise RuntimeError("no valid push certificate: the portal should be closed")

    challenge = generate_challenge()
    session = EnrollmentSession.objects.create(
        blueprint=code.blueprint,
        enrollment_code=code,
        expires_at=timezone.now()
        + timedelta(hours=settings.TRELLIS_ENROLLMENT_SESSION_HOURS),
        client_ip=client_ip,
        user_agent=user_agent[:512],
        challenge_digest=challenge_digest(challenge),
    )
    signed = sign_enrollment_profile(session, challenge, push_certificate.topic)
    logger.info(
        "enrollment profile issued enrollment_session=%s blueprint=%s code_version=%s",
        session.id,
        code.blueprint_id,
        code.version,
    )
    return ProfileDownload(session, _filename(code.blueprint.name), signed)


@transaction.atomic
def start_renewal(device: Device) -> tuple[EnrollmentSession, bytes]:
    """Open a renewal session for an enrolled device and sign its new profile.

    The profile is the enrollment profile again (same identifier, server and
    topic) with a fresh one-time challenge, so installing it replaces the
    device's identity and nothing else. It stays installable until the
    current identity expires: a device may be offline for a while.
    """
    blueprint = device.blueprint or getattr(
        device.enrollment_session, "blueprint", None
    )
    identity = device.identity_certificate
    if blueprint is None or identity is None:
        raise ValueError("only an enrolled device with an identity can renew it")
    challenge = generate_challenge()
    session = EnrollmentSession.objects.create(
        kind=EnrollmentSession.Kind.RENEWAL,
        blueprint=blueprint,
        renewal_of=device,
        expires_at=identity.not_after,
        challenge_digest=challenge_digest(challenge),
    )
    return session, sign_enrollment_profile(session, challenge, device.topic)


def sign_enrollment_profile(
    session: EnrollmentSession, challenge: str, topic: str
) -> bytes:
    """Build and sign the enrollment profile of a session."""
    base = settings.TRELLIS_BASE_URL
    spec = EnrollmentProfileSpec(
        identifier=profile_identifier(base),
        organization=settings.TRELLIS_ORGANIZATION,
        blueprint_name=session.blueprint.name,
        scep_url=f"{base}/scep",
        challenge=challenge,
        subject=(
            ("O", settings.TRELLIS_ORGANIZATION),
            ("CN", f"Trellis device identity {session.id}"),
        ),
        server_url=f"{base}/mdm/connect",
        checkin_url=f"{base}/mdm/checkin",
        topic=topic,
        ca_certificate_der=get_authority().certificate_der,
    )
    signer = get_profile_signer()
    return sign_attached(
        build_enrollment_profile(spec), signer.certificate, signer.key, signer.chain
    )


def live_session_for_challenge(challenge: str) -> EnrollmentSession | None:
    """Answer the session whose unused challenge this is, if it may still enroll."""
    session = (
        EnrollmentSession.objects.select_related(
            "enrollment_code", "blueprint", "renewal_of"
        )
        .filter(challenge_digest=challenge_digest(challenge))
        .first()
    )
    if session is None or session.status != EnrollmentSession.Status.DOWNLOADED:
        return None
    if not session_may_enroll(session):
        return None
    return session


def consume_challenge(
    session: EnrollmentSession, certificate: IssuedCertificate
) -> bool:
    """Spend the session's challenge on a certificate; False if already spent."""
    spent = EnrollmentSession.objects.filter(
        pk=session.pk, status=EnrollmentSession.Status.DOWNLOADED
    ).update(
        status=EnrollmentSession.Status.CERTIFICATE_ISSUED,
        challenge_used_at=timezone.now(),
        certificate=certificate,
    )
    return spent == 1


def session_may_enroll(session: EnrollmentSession) -> bool:
    """Answer whether an unfinished session may still lead to an enrollment.

    A portal session's code must still be the Blueprint's current one (Change
    Code stops every profile downloaded before it) and the Blueprint must
    still allow enrollment. A renewal's device must still be managed. Neither
    may have expired.
    """
    if session.expires_at <= timezone.now():
        return False
    if session.kind == EnrollmentSession.Kind.RENEWAL:
        device = session.renewal_of
        if device is None or device.status not in Device.MANAGED:
            return False
        current = device.identity_certificate
        return current is not None and current.revoked_at is None
    code = session.enrollment_code
    return (
        code is not None
        and code.retired_at is None
        and session.blueprint.enrollment_enabled
    )


def mark_session_enrolled(session: EnrollmentSession) -> None:
    """Record that the session's device has checked in."""
    EnrollmentSession.objects.filter(pk=session.pk).update(
        status=EnrollmentSession.Status.ENROLLED, enrolled_at=timezone.now()
    )


def profile_identifier(base_url: str) -> str:
    """Answer a stable PayloadIdentifier for this server's enrollment profiles.

    Stable per server, so that installing a newer enrollment profile
    replaces the older one instead of standing beside it.
    """
    host = urlsplit(base_url).hostname or "localhost"
    if re.fullmatch(r"[0-9.]+|[0-9a-f:]+", host):
        labels = ["trellis", re.sub(r"[^0-9a-z]", "-", host)]
    else:
        labels = list(reversed(host.lower().split(".")))
    return ".".join([*labels, "enrollment"])


def _filename(blueprint_name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", blueprint_name).strip("-") or "enrollment"
    return f"{slug[:60]}.mobileconfig"
