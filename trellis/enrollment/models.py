"""The enrollment portal switch and the sessions it hands out."""

import uuid

from django.db import models
from django.utils import timezone

from trellis.blueprints.models import Blueprint, EnrollmentCode
from trellis.pki.models import IssuedCertificate


class EnrollmentPortal(models.Model):
    """The portal's switches; a single row."""

    enabled = models.BooleanField(default=False)
    locked = models.BooleanField(
        default=False,
        help_text="Close the portal at once, whatever else is set: for example "
        "while it is under attack.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "enrollment portal"

    def __str__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"Enrollment portal ({state}{', locked' if self.locked else ''})"

    @classmethod
    def load(cls) -> "EnrollmentPortal":
        portal, _ = cls.objects.get_or_create(pk=1)
        return portal


class EnrollmentSession(models.Model):
    """One enrollment profile download, and what became of it.

    The session, never anything the device says, ties a device to its
    Blueprint: its challenge buys one certificate, and that certificate's
    Authenticate joins the Blueprint the session was made for.
    """

    class Kind(models.TextChoices):
        ENROLLMENT = "enrollment", "Enrollment from the portal"
        RENEWAL = "renewal", "Identity renewal of an enrolled device"

    class Status(models.TextChoices):
        DOWNLOADED = "downloaded", "Profile downloaded"
        CERTIFICATE_ISSUED = "certificate_issued", "Identity certificate issued"
        ENROLLED = "enrolled", "Device checked in"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    blueprint = models.ForeignKey(
        Blueprint, on_delete=models.PROTECT, related_name="enrollment_sessions"
    )
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.ENROLLMENT
    )
    # Portal enrollments come from a code; renewals from the device they renew.
    enrollment_code = models.ForeignKey(
        EnrollmentCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrollment_sessions",
    )
    renewal_of = models.ForeignKey(
        "mdm.Device",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="renewal_sessions",
    )
    # The InstallProfile command that carries a renewal's profile.
    command_uuid = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    challenge_digest = models.CharField(max_length=64, unique=True)
    challenge_used_at = models.DateTimeField(null=True, blank=True)
    certificate = models.OneToOneField(
        IssuedCertificate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrollment_session",
    )
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.DOWNLOADED
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.blueprint} session {self.id}"

    @property
    def outcome(self) -> str:
        """What became of the session, in words for the admin."""
        if self.status == self.Status.ENROLLED:
            return "enrolled" if self.kind == self.Kind.ENROLLMENT else "renewed"
        if (
            self.enrollment_code is not None
            and self.enrollment_code.retired_at is not None
        ):
            return "refused: enrollment code changed"
        if self.expires_at <= timezone.now():
            return "expired"
        return self.get_status_display()
