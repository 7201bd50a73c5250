"""Admin REST API for the push certificate and its signing request."""

import base64
import binascii

from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trellis.apns.certificates import PushCertificateError, read_pkcs12
from trellis.apns.models import PushCertificate, PushCertificateRequest
from trellis.apns.services import (
    TopicChangeRefused,
    create_push_certificate_request,
    current_push_certificate,
    expiry_warning,
    install_push_certificate,
)


class PushCertificateUploadSerializer(serializers.Serializer[None]):
    certificate = serializers.CharField(trim_whitespace=False, required=False)
    private_key = serializers.CharField(trim_whitespace=False, required=False)
    pkcs12 = serializers.CharField(
        required=False, help_text="A .p12/.pfx file, base64."
    )
    passphrase = serializers.CharField(required=False, allow_blank=True, default="")
    confirm_topic_change = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if bool(attrs.get("certificate")) == bool(attrs.get("pkcs12")):
            raise serializers.ValidationError(
                "Give either a PEM certificate (with its key unless Trellis made the "
                "CSR) or a base64 .p12 file with its passphrase."
            )
        return attrs


class SigningRequestSerializer(serializers.Serializer[None]):
    common_name = serializers.CharField(required=False, default="Trellis MDM push")
    email = serializers.EmailField(required=False, default="", allow_blank=True)


def describe(certificate: PushCertificate) -> dict[str, object]:
    warning = expiry_warning(certificate)
    return {
        "topic": certificate.topic,
        "not_after": certificate.not_after.isoformat(),
        "days_left": certificate.days_left,
        "valid": certificate.is_valid,
        "problem": certificate.problem or None,
        "warning": warning.message if warning else None,
        "uploaded_at": certificate.uploaded_at.isoformat(),
    }


class PushCertificateView(APIView):
    """Show, or replace, the push certificate in use."""

    # A replacement is stored as a new row, as an upload in the Django admin is.
    permission_model = PushCertificate
    method_permissions = {"PUT": "add"}

    def get(self, request: Request) -> Response:
        current = current_push_certificate()
        if current is None:
            raise NotFound("No push certificate is installed.")
        return Response(describe(current))

    def put(self, request: Request) -> Response:
        upload = PushCertificateUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            certificate_pem, key_pem = _pem_pair(data)
            installed = install_push_certificate(
                certificate_pem,
                key_pem,
                actor=request.user.get_username(),
                confirm_topic_change=data["confirm_topic_change"],
            )
        except PushCertificateError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        except TopicChangeRefused as exc:
            return Response(
                {
                    "detail": str(exc),
                    "current_topic": exc.current,
                    "new_topic": exc.new,
                    "devices": exc.devices,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(describe(installed))


class PushCertificateRequestView(APIView):
    """Make a key and CSR for Apple's push certificate process, or show the last one."""

    permission_model = PushCertificateRequest
    method_permissions = {"POST": "add"}

    def get(self, request: Request) -> Response:
        latest = PushCertificateRequest.objects.filter(used_at__isnull=True).first()
        if latest is None:
            raise NotFound("No certificate signing request is waiting.")
        return Response(_describe_request(latest))

    def post(self, request: Request) -> Response:
        form = SigningRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        created = create_push_certificate_request(
            form.validated_data["common_name"],
            form.validated_data["email"],
            actor=request.user.get_username(),
        )
        return Response(_describe_request(created), status=status.HTTP_201_CREATED)


def _describe_request(signing_request: PushCertificateRequest) -> dict[str, object]:
    return {
        "id": signing_request.pk,
        "csr": signing_request.csr_pem,
        "created_at": signing_request.created_at.isoformat(),
    }


def _pem_pair(data: dict[str, object]) -> tuple[str, str | None]:
    if data.get("pkcs12"):
        try:
            blob = base64.b64decode(str(data["pkcs12"]), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PushCertificateError("The .p12 file must be sent as base64.") from exc
        return read_pkcs12(blob, str(data.get("passphrase") or ""))
    key = data.get("private_key")
    return str(data["certificate"]), str(key) if key else None
