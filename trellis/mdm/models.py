"""Devices and the commands queued for them."""

import plistlib
import uuid
import zlib
from typing import Any

from django.db import models
from django.db.models import Q

from trellis.blueprints.models import Blueprint
from trellis.enrollment.models import EnrollmentSession
from trellis.pki.models import IssuedCertificate


class Device(models.Model):
    """An Apple device that has checked in over the MDM protocol."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ENROLLED = "enrolled", "Enrolled"
        UNRESPONSIVE = "unresponsive", "Unresponsive"
        UNENROLLED = "unenrolled", "Unenrolled"

    class PushOutcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered to APNs"
        TOKEN_INVALID = "token_invalid", "Token no longer valid"
        CERTIFICATE_ERROR = "certificate_error", "Push certificate refused"
        RETRIES_EXHAUSTED = "retries_exhausted", "APNs busy; retries used up"
        REJECTED = "rejected", "Rejected by APNs"
        NO_CERTIFICATE = "no_certificate", "No valid push certificate"

    # Statuses of a device Trellis manages and pushes to.
    MANAGED = (Status.ENROLLED, Status.UNRESPONSIVE)

    class Family(models.TextChoices):
        MAC = "mac", "Mac"
        IPHONE = "iphone", "iPhone"
        IPAD = "ipad", "iPad"
        UNKNOWN = "", "Unknown"

    udid = models.CharField(max_length=64, unique=True)
    serial_number = models.CharField(max_length=64, blank=True, db_index=True)
    model = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=128, blank=True)
    product_name = models.CharField(max_length=64, blank=True)
    device_family = models.CharField(
        max_length=16, choices=Family.choices, blank=True, default=Family.UNKNOWN
    )
    os_version = models.CharField(max_length=32, blank=True)
    build_version = models.CharField(max_length=32, blank=True)
    name = models.CharField(max_length=255, blank=True)
    blueprint = models.ForeignKey(
        Blueprint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    push_token = models.BinaryField(null=True, blank=True)
    push_magic = models.CharField(max_length=255, blank=True)
    topic = models.CharField(max_length=255, blank=True)
    unlock_token = models.BinaryField(null=True, blank=True)
    bootstrap_token = models.BinaryField(null=True, blank=True)
    awaiting_configuration = models.BooleanField(default=False)
    identity_certificate = models.ForeignKey(
        IssuedCertificate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enrollment_session = models.ForeignKey(
        EnrollmentSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
    )
    # Push state: a request waiting to be coalesced into one push, the last
    # push and what APNs said, and since when pushes have gone unanswered.
    push_requested_at = models.DateTimeField(null=True, blank=True, db_index=True)
    push_token_invalid_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_push_outcome = models.CharField(
        max_length=24, choices=PushOutcome.choices, blank=True
    )
    last_push_reason = models.CharField(max_length=64, blank=True)
    push_unanswered_since = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    unenrolled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["blueprint", "status"])]

    def __str__(self) -> str:
        return self.name or self.serial_number or self.udid


class Command(models.Model):
    """One MDM command for one device, from queued to its answer."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ERROR = "error", "Error"
        NOT_NOW = "not_now", "Not now"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    # A command in one of these states may still be handed to the device.
    DELIVERABLE = (Status.QUEUED, Status.SENT, Status.NOT_NOW)

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="commands"
    )
    request_type = models.CharField(max_length=64)
    payload = models.BinaryField(help_text="The command as sent: an XML property list.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    result = models.BinaryField(
        null=True,
        blank=True,
        help_text="The device's answer, raw (zlib if compressed).",
    )
    result_compressed = models.BooleanField(default=False)
    # Deliveries without an answer; past a limit the command stops blocking the queue.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Why the answer could not be used as is (unreadable, unexpected types).
    problem = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The connect hot path: a device's oldest deliverable command.
            models.Index(
                fields=["device", "id"],
                condition=Q(status__in=["queued", "sent", "not_now"]),
                name="command_deliverable_idx",
            ),
            # Finding commands that have waited too long.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["queued", "sent", "not_now"]),
                name="command_deliverable_age_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_type} {self.uuid}"

    def payload_dict(self) -> dict[str, Any]:
        return plistlib.loads(bytes(self.payload))

    def result_bytes(self) -> bytes | None:
        """The device's answer as it sent it."""
        if self.result is None:
            return None
        raw = bytes(self.result)
        return zlib.decompress(raw) if self.result_compressed else raw

    def result_dict(self) -> dict[str, Any] | None:
        raw = self.result_bytes()
        if raw is None:
            return None
        try:
            loaded = plistlib.loads(raw)
        except (plistlib.InvalidFileException, ValueError):
            return None
        return loaded if isinstance(loaded, dict) else None
