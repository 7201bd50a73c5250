"""Admin REST API for the enrollment portal switch."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trellis.enrollment.models import EnrollmentPortal
from trellis.enrollment.services import portal_url, set_portal_enabled


class PortalSerializer(serializers.Serializer[EnrollmentPortal]):
    enabled = serializers.BooleanField()
    url = serializers.SerializerMethodField()

    def get_url(self, portal: EnrollmentPortal) -> str:
        return portal_url()


class EnrollmentPortalView(APIView):
    """Read or switch the enrollment portal."""

    def get(self, request: Request) -> Response:
        return Response(PortalSerializer(EnrollmentPortal.load()).data)

    def patch(self, request: Request) -> Response:
        update = PortalSerializer(
            EnrollmentPortal.load(), data=request.data, partial=True
        )
        update.is_valid(raise_exception=True)
        portal = EnrollmentPortal.load()
        if "enabled" in update.validated_data:
            portal = set_portal_enabled(
                update.validated_data["enabled"], actor=request.user.get_username()
            )
        return Response(PortalSerializer(portal).data)
