"""The library: configuration profiles, and the Blueprints that carry them."""

from django.db import models

from trellis.blueprints.models import Blueprint


class Profile(models.Model):
    """A configuration profile in the library, kept exactly as uploaded.

    The library item is the PayloadIdentifier, not the upload: a device that
    is sent a profile whose identifier matches one it has installed replaces
    the installed profile rather than adding a second one. So uploading a
    profile with an identifier the library already holds replaces that item's
    content and bumps its `version`; the item, and the Blueprints that carry
    it, stay the same, and every device of those Blueprints ends up with the
    new version.
    """

    class Scope(models.TextChoices):
        SYSTEM = "System", "System"
        USER = "User", "User"

    name = models.CharField(max_length=255)
    identifier = models.CharField(
        max_length=255, unique=True, help_text="The profile's PayloadIdentifier."
    )
    payload_uuid = models.CharField(
        max_length=64, help_text="The profile's PayloadUUID."
    )
    display_name = models.TextField(blank=True)
    organization = models.TextField(blank=True)
    description = models.TextField(blank=True)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    removal_disallowed = models.BooleanField(default=False)
    payload_types = models.JSONField(default=list)
    payloads = models.JSONField(
        default=list, help_text="type, identifier, uuid and display name of each."
    )
    signed = models.BooleanField(default=False)
    signer = models.TextField(
        blank=True, help_text="Subject of the signing certificate."
    )
    content = models.BinaryField(help_text="The bytes devices are sent.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=1)
    uploaded_at = models.DateTimeField(help_text="When this version was uploaded.")
    uploaded_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    blueprints = models.ManyToManyField(
        Blueprint, through="BlueprintItem", related_name="profiles", blank=True
    )

    class Meta:
        ordering = ["name", "identifier"]

    def __str__(self) -> str:
        return self.name


class BlueprintItem(models.Model):
    """A library item a Blueprint carries: every device in it must have it.

    A profile cannot be deleted while a Blueprint carries it (PROTECT): taking
    it off each Blueprint first is the step that will remove it from devices.
    """

    blueprint = models.ForeignKey(
        Blueprint, on_delete=models.CASCADE, related_name="library_items"
    )
    profile = models.ForeignKey(
        Profile, on_delete=models.PROTECT, related_name="blueprint_items"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["blueprint", "profile__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["blueprint", "profile"], name="blueprint_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile} in {self.blueprint}"
