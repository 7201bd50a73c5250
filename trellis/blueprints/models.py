"""Blueprints and their enrollment codes."""

from django.db import models
from django.db.models import Q

from trellis.blueprints.codes import format_code
from trellis.core.validators import printable_text


class Blueprint(models.Model):
    """A set of settings that every device in it must carry."""

    # The name goes into enrollment profiles, which cannot carry control characters.
    name = models.CharField(max_length=200, unique=True, validators=[printable_text])
    enrollment_enabled = models.BooleanField(
        default=False,
        help_text="Whether the portal enrolls devices into this Blueprint.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def current_code(self) -> "EnrollmentCode | None":
        """The code that enrolls into this Blueprint now."""
        return self.enrollment_codes.filter(retired_at__isnull=True).first()


class EnrollmentCode(models.Model):
    """One code a Blueprint has had; retired codes stay for the audit trail."""

    blueprint = models.ForeignKey(
        Blueprint, on_delete=models.CASCADE, related_name="enrollment_codes"
    )
    code = models.CharField(max_length=32, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["blueprint", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["blueprint", "version"], name="enrollment_code_version_unique"
            ),
            models.UniqueConstraint(
                fields=["blueprint"],
                condition=Q(retired_at__isnull=True),
                name="one_current_enrollment_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blueprint} v{self.version}"

    @property
    def display(self) -> str:
        """The code as people read it."""
        return format_code(self.code)

    @property
    def is_current(self) -> bool:
        return self.retired_at is None
