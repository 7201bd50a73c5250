from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from trellis.core.admin import TrellisModelAdmin
from trellis.library.models import BlueprintItem, Profile
from trellis.library.profiles import MAX_PROFILE_BYTES, ProfileError, read_profile
from trellis.library.services import (
    add_to_blueprint,
    check_replacement,
    delete_profile,
    remove_from_blueprint,
    replace_profile,
    upload_profile,
)

SUMMARY_FIELDS = (
    "name",
    "identifier",
    "version",
    "display_name",
    "organization",
    "description",
    "scope",
    "removal_disallowed",
    "payload_types",
    "payloads",
    "signed",
    "signer",
    "payload_uuid",
    "sha256",
    "size",
    "uploaded_at",
    "uploaded_by",
    "created_at",
)
UPLOAD_FIELDS = ["file", "upload_name"]


class ProfileUploadForm(forms.ModelForm):  # type: ignore[type-arg]
    """A configuration profile file: a new library item, or a new version of one."""

    file = forms.FileField(
        required=False,
        help_text=(
            "A .mobileconfig file, signed or not. On the add page, a profile "
            "whose PayloadIdentifier is in the library already replaces it."
        ),
    )
    upload_name = forms.CharField(
        required=False,
        label="Name",
        help_text="Shown in the library; the profile's display name if empty.",
    )

    class Meta:
        model = Profile
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is None:
            if self.instance.pk is None:
                raise forms.ValidationError("Choose a configuration profile file.")
            if data.get("upload_name"):
                raise forms.ValidationError("A new name comes with a new version.")
            return data
        if upload.size > MAX_PROFILE_BYTES:
            raise forms.ValidationError(
                f"A profile may be {MAX_PROFILE_BYTES} bytes at most."
            )
        content = upload.read()
        try:
            if self.instance.pk is None:
                read_profile(content)
            else:
                check_replacement(self.instance, content)
        except ProfileError as exc:
            raise forms.ValidationError(exc.reason) from exc
        data["content"] = content
        return data


@admin.register(Profile)
class ProfileAdmin(TrellisModelAdmin):
    list_display = [
        "name",
        "identifier",
        "version",
        "payload_types_display",
        "blueprints_display",
        "signed",
        "updated_at",
    ]
    list_filter = ["signed", "scope"]
    search_fields = ["name", "identifier"]
    form = ProfileUploadForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Profile]:
        queryset = super().get_queryset(request)
        return queryset.defer("content").prefetch_related("blueprints")

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return UPLOAD_FIELDS if obj is None else [*SUMMARY_FIELDS, *UPLOAD_FIELDS]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return () if obj is None else SUMMARY_FIELDS

    @admin.display(description="Payload types")
    def payload_types_display(self, profile: Profile) -> str:
        return ", ".join(profile.payload_types)

    @admin.display(description="Blueprints")
    def blueprints_display(self, profile: Profile) -> str:
        return ", ".join(blueprint.name for blueprint in profile.blueprints.all())

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        content = form.cleaned_data.get("content")
        name = form.cleaned_data.get("upload_name", "")
        actor = request.user.get_username()
        if content is None:
            return
        if change:
            stored = replace_profile(obj, content, actor=actor, name=name)
        else:
            stored, created = upload_profile(content, actor=actor, name=name)
            if not created:
                messages.info(
                    request,
                    f"{stored.identifier} was in the library already: "
                    f"this is version {stored.version} of it.",
                )
        # The admin names and links the stored row through this object.
        obj.pk, obj.name, obj.identifier = stored.pk, stored.name, stored.identifier

    def delete_model(self, request: HttpRequest, obj: Profile) -> None:
        delete_profile(obj, actor=request.user.get_username())

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Profile]
    ) -> None:
        for profile in queryset:
            delete_profile(profile, actor=request.user.get_username())


class BlueprintItemFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Add and remove a Blueprint's profiles through the services, audited."""

    actor = "system"

    def save_new(self, form, commit=True):  # type: ignore[no-untyped-def]
        item, _ = add_to_blueprint(
            self.instance, form.cleaned_data["profile"], actor=self.actor
        )
        return item

    def delete_existing(self, obj, commit=True):  # type: ignore[no-untyped-def]
        if commit:
            remove_from_blueprint(obj.blueprint, obj.profile, actor=self.actor)


class BlueprintItemInline(admin.TabularInline):
    """The profiles a Blueprint carries, on the Blueprint's page."""

    model = BlueprintItem
    formset = BlueprintItemFormSet
    fields = ["profile", "added_at", "added_by"]
    readonly_fields = ["added_at", "added_by"]
    extra = 0
    verbose_name = "library profile"
    verbose_name_plural = "library profiles"

    def get_formset(self, request, obj=None, **kwargs):  # type: ignore[no-untyped-def]
        formset = super().get_formset(request, obj, **kwargs)
        # A class made for this request: the actor does not leak to others.
        formset.actor = request.user.get_username()
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "profile":
            kwargs["queryset"] = Profile.objects.defer("content").order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A row is added or removed, never pointed at another profile.
        return False
