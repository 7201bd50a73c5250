"""Admin REST API for the push certificate."""

from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trellis.apns.certificates import PushCertificateError
from trellis.apns.models import PushCertificate
from trellis.apns.services import current_push_certificate, install_push_certificate


class PushCertificateUploadSerializer(serializers.Serializer[None]):
    certificate = serializers.CharField(trim_whitespace=False)
    private_key = serializers.CharField(trim_whitespace=False)


def describe(certificate: PushCertificate) -> dict[str, object]:
    return {
        "topic": certificate.topic,
        "not_after": certificate.not_after.isoformat(),
        "valid": certificate.is_valid,
        "uploaded_at": certificate.uploaded_at.isoformat(),
    }


class PushCertificateView(APIView):
    """Show, or replace, the push certificate in use."""

    def get(self, request: Request) -> Response:
        current = current_push_certificate()
        if current is None:
            raise NotFound("No push certificate is installed.")
        return Response(describe(current))

    def put(self, request: Request) -> Response:
        upload = PushCertificateUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            installed = install_push_certificate(
                upload.validated_data["certificate"],
                upload.validated_data["private_key"],
                actor=request.user.get_username(),
            )
        except PushCertificateError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(describe(installed), status=status.HTTP_200_OK)
