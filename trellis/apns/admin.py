from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from trellis.apns.certificates import PushCertificateError, read_pkcs12
from trellis.apns.models import PushCertificate
from trellis.apns.services import (
    TopicChangeRefused,
    check_push_certificate,
    install_push_certificate,
)
from trellis.core.admin import TrellisModelAdmin

UPLOAD_FIELDS = [
    "certificate",
    "private_key",
    "pkcs12",
    "passphrase",
    "confirm_topic_change",
]


class PushCertificateUploadForm(forms.ModelForm):  # type: ignore[type-arg]
    """A push certificate as PEM (with its key unless Trellis made the CSR) or .p12."""

    certificate = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        strip=False,
        help_text="The PEM certificate Apple issued.",
    )
    private_key = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        strip=False,
        help_text="Its PEM private key. Leave empty if Trellis made the CSR.",
    )
    pkcs12 = forms.FileField(
        required=False, label=".p12 file", help_text="Instead of PEM."
    )
    passphrase = forms.CharField(widget=forms.PasswordInput, required=False)
    confirm_topic_change = forms.BooleanField(
        required=False,
        help_text="Replace the topic even though enrolled devices use the current one.",
    )

    class Meta:
        model = PushCertificate
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key: str | None
        try:
            if data.get("pkcs12"):
                pem, key = read_pkcs12(
                    data["pkcs12"].read(), data.get("passphrase") or ""
                )
            elif data.get("certificate"):
                pem, key = data["certificate"], data.get("private_key") or None
            else:
                raise forms.ValidationError(
                    "Paste the PEM certificate or choose a .p12 file."
                )
            check_push_certificate(pem, key, data.get("confirm_topic_change", False))
        except (PushCertificateError, TopicChangeRefused) as exc:
            raise forms.ValidationError(str(exc)) from exc
        data["pem_pair"] = (pem, key)
        return data


@admin.register(PushCertificate)
class PushCertificateAdmin(TrellisModelAdmin):
    list_display = ["topic", "not_after", "days_left", "problem", "uploaded_at"]
    readonly_fields = (
        "topic",
        "serial_number",
        "not_after",
        "uploaded_at",
        "uploaded_by",
        "problem",
        "problem_at",
        "certificate_pem",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = PushCertificateUploadForm
            kwargs["fields"] = UPLOAD_FIELDS
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return UPLOAD_FIELDS if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        pem, key = form.cleaned_data["pem_pair"]
        installed = install_push_certificate(
            pem,
            key,
            actor=request.user.get_username(),
            confirm_topic_change=form.cleaned_data["confirm_topic_change"],
        )
        # The admin names and links the new row through this object.
        obj.pk, obj.topic, obj.not_after = (
            installed.pk,
            installed.topic,
            installed.not_after,
        )
