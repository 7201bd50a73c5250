"""Admin REST API for devices and their commands."""

from typing import Any

from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from trellis.apns.delivery import push_refusal, request_push
from trellis.mdm.models import Command, Device
from trellis.mdm.revocation import NoIdentity, revoke_identity


class DeviceSerializer(serializers.ModelSerializer[Device]):
    blueprint_name = serializers.CharField(
        source="blueprint.name", read_only=True, default=None
    )
    push_token_valid = serializers.SerializerMethodField()
    identity_revoked_at = serializers.DateTimeField(
        source="identity_certificate.revoked_at", read_only=True, default=None
    )

    def get_push_token_valid(self, device: Device) -> bool:
        return bool(device.push_token) and device.push_token_invalid_at is None

    class Meta:
        model = Device
        fields = [
            "id",
            "udid",
            "serial_number",
            "device_family",
            "model",
            "model_name",
            "product_name",
            "os_version",
            "build_version",
            "name",
            "blueprint",
            "blueprint_name",
            "status",
            "topic",
            "push_token_valid",
            "identity_revoked_at",
            "last_push_at",
            "last_push_outcome",
            "last_push_reason",
            "first_seen",
            "last_seen",
            "enrolled_at",
            "unenrolled_at",
        ]
        read_only_fields = fields


class CommandSerializer(serializers.ModelSerializer[Command]):
    command_uuid = serializers.UUIDField(source="uuid", read_only=True)
    payload = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()

    class Meta:
        model = Command
        fields = [
            "command_uuid",
            "request_type",
            "status",
            "payload",
            "result",
            "created_at",
            "sent_at",
            "responded_at",
        ]
        read_only_fields = fields

    def get_payload(self, command: Command) -> Any:
        return _json_safe(command.payload_dict().get("Command", {}))

    def get_result(self, command: Command) -> Any:
        return _json_safe(command.result_dict())


class DeviceFilter(serializers.Serializer[None]):
    """The filters of the device list, checked before they reach the database."""

    status = serializers.ChoiceField(choices=Device.Status.choices, required=False)
    blueprint = serializers.IntegerField(min_value=1, required=False)
    device_family = serializers.ChoiceField(
        choices=Device.Family.choices, required=False
    )
    udid = serializers.CharField(max_length=64, required=False)
    serial_number = serializers.CharField(max_length=64, required=False)


class DeviceViewSet(viewsets.ReadOnlyModelViewSet[Device]):
    """List and read devices; list a device's commands."""

    queryset = Device.objects.select_related(
        "blueprint", "identity_certificate"
    ).order_by("id")
    serializer_class = DeviceSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        devices = super().get_queryset()
        if self.action != "list":
            return devices
        filters = DeviceFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return devices.filter(**{k: v for k, v in filters.validated_data.items() if v})

    @action(detail=True, methods=["post"])
    def push(self, request: Request, pk: str | None = None) -> Response:
        """Wake the device now (in the background)."""
        device = self.get_object()
        refusal = push_refusal(device)
        if refusal:
            return Response({"detail": refusal}, status=status.HTTP_409_CONFLICT)
        request_push([device.pk])
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"], url_path="revoke-identity")
    def revoke_identity(self, request: Request, pk: str | None = None) -> Response:
        """Refuse every check-in and connect made with the device's certificate."""
        device = self.get_object()
        try:
            revoke_identity(device, actor=request.user.get_username())
        except NoIdentity as exc:
            return Response({"detail": str(exc)}, status=exc.status)
        return Response(self.get_serializer(device).data)

    @action(detail=True, methods=["get"])
    def commands(self, request: Request, pk: str | None = None) -> Response:
        device = self.get_object()
        commands = device.commands.order_by("-id")
        page = self.paginate_queryset(commands)
        serializer = CommandSerializer(
            page if page is not None else commands, many=True
        )
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)


def _json_safe(value: Any) -> Any:
    """Property list values as JSON: data as hex, dates as ISO text."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
