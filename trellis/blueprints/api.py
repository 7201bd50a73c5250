"""Admin REST API for Blueprints."""

from typing import Any

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from trellis.apns.delivery import request_push
from trellis.blueprints.models import Blueprint
from trellis.blueprints.services import change_code, create_blueprint, update_blueprint
from trellis.library.api import BlueprintLibraryItems
from trellis.mdm.models import Device


class BlueprintSerializer(serializers.ModelSerializer[Blueprint]):
    enrollment_code = serializers.SerializerMethodField()

    class Meta:
        model = Blueprint
        fields = [
            "id",
            "name",
            "enrollment_enabled",
            "enrollment_code",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "enrollment_code", "created_at", "updated_at"]

    def get_enrollment_code(self, blueprint: Blueprint) -> str | None:
        code = blueprint.current_code
        return code.display if code else None

    def update(self, blueprint: Blueprint, validated_data: dict[str, Any]) -> Blueprint:
        actor = self.context["request"].user.get_username()
        return update_blueprint(blueprint, actor=actor, **validated_data)

    def create(self, validated_data: dict[str, Any]) -> Blueprint:
        return create_blueprint(
            actor=self.context["request"].user.get_username(), **validated_data
        )


class BlueprintViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    BlueprintLibraryItems,
    viewsets.GenericViewSet[Blueprint],
):
    """Create, list, read and update Blueprints; change a Blueprint's code.

    Also add profiles from the library to a Blueprint and take them off.
    """

    queryset = Blueprint.objects.prefetch_related("enrollment_codes").order_by("id")
    serializer_class = BlueprintSerializer

    @action(detail=True, methods=["post"])
    def push(self, request: Request, pk: str | None = None) -> Response:
        """Wake every enrolled device of the Blueprint (in the background)."""
        blueprint = self.get_object()
        devices = list(
            blueprint.devices.filter(status__in=Device.MANAGED).values_list(
                "pk", flat=True
            )
        )
        request_push(devices)
        return Response({"devices": len(devices)}, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"], url_path="change-code")
    def change_code(self, request: Request, pk: str | None = None) -> Response:
        blueprint = self.get_object()
        code = change_code(blueprint, actor=request.user.get_username())
        return Response(
            {
                "id": blueprint.pk,
                "enrollment_code": code.display,
                "version": code.version,
            }
        )
