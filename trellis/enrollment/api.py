"""Admin REST API for the enrollment portal's switch and lock."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trellis.enrollment.models import EnrollmentPortal
from trellis.enrollment.services import (
    portal_url,
    set_portal_enabled,
    set_portal_locked,
)


class PortalSerializer(serializers.Serializer[EnrollmentPortal]):
    enabled = serializers.BooleanField()
    locked = serializers.BooleanField()
    url = serializers.SerializerMethodField()

    def get_url(self, portal: EnrollmentPortal) -> str:
        return portal_url()


class EnrollmentPortalView(APIView):
    """Read the portal's state, switch it on or off, lock or unlock it."""

    permission_model = EnrollmentPortal

    def get(self, request: Request) -> Response:
        return Response(PortalSerializer(EnrollmentPortal.load()).data)

    def patch(self, request: Request) -> Response:
        update = PortalSerializer(
            EnrollmentPortal.load(), data=request.data, partial=True
        )
        update.is_valid(raise_exception=True)
        actor = request.user.get_username()
        portal = EnrollmentPortal.load()
        if "enabled" in update.validated_data:
            portal = set_portal_enabled(update.validated_data["enabled"], actor=actor)
        if "locked" in update.validated_data:
            portal = set_portal_locked(update.validated_data["locked"], actor=actor)
        return Response(PortalSerializer(portal).data)


class EnrollmentPortalLockView(APIView):
    """Lock the portal (it answers as if it did not exist), or unlock it."""

    permission_model = EnrollmentPortal
    locked = True

    def post(self, request: Request) -> Response:
        portal = set_portal_locked(self.locked, actor=request.user.get_username())
        return Response(PortalSerializer(portal).data)
