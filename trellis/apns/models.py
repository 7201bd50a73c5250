"""The APNs push certificate, and the key Trellis keeps while Apple signs it."""

from django.db import models
from django.utils import timezone

SEALED_HELP = (
    "The PEM private key, encrypted with TRELLIS_SECRET_KEYS "
    "(plain PEM if stored before encryption; sealed at the next start)."
)


class PushCertificate(models.Model):
    """An uploaded MDM push certificate and its private key.

    The newest row is the one in use; older rows are kept as history.
    """

    topic = models.CharField(max_length=255)
    serial_number = models.CharField(max_length=64, blank=True)
    not_after = models.DateTimeField()
    certificate_pem = models.TextField()
    sealed_private_key = models.TextField(help_text=SEALED_HELP)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.CharField(max_length=150, blank=True)
    # A problem APNs reported with this certificate (403), shown to admins.
    problem = models.CharField(max_length=255, blank=True)
    problem_at = models.DateTimeField(null=True, blank=True)
    # The day the expiry warning was last logged and sent, so it goes once a day.
    expiry_warned_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} (expires {self.not_after:%Y-%m-%d})"

    @property
    def is_valid(self) -> bool:
        return self.not_after > timezone.now()

    @property
    def days_left(self) -> int:
        return (self.not_after - timezone.now()).days


class PushCertificateRequest(models.Model):
    """A key Trellis generated, and its CSR, waiting for the signed certificate."""

    sealed_private_key = models.TextField(help_text=SEALED_HELP)
    csr_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Push certificate request of {self.created_at:%Y-%m-%d %H:%M}"
