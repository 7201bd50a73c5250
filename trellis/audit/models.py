"""The audit trail: lifecycle facts an admin can read, apart from the logs."""

from django.db import models


class AuditEvent(models.Model):
    """One thing that happened to a Blueprint, device, certificate or setting."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(
        max_length=150, help_text="Admin username, 'device' or 'system'."
    )
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        target = f"{self.target_type}:{self.target_id}"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {target}"
