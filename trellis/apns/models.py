"""The APNs push certificate that devices' topic belongs to."""

from django.db import models
from django.utils import timezone


class PushCertificate(models.Model):
    """An uploaded MDM push certificate and its private key.

    The newest row is the one in use; older rows are kept as history.
    """

    topic = models.CharField(max_length=255)
    not_after = models.DateTimeField()
    certificate_pem = models.TextField()
    private_key_pem = models.TextField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        get_latest_by = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.topic} (expires {self.not_after:%Y-%m-%d})"

    @property
    def is_valid(self) -> bool:
        return self.not_after > timezone.now()
