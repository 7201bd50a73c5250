"""Admin REST API for devices and their commands."""

from typing import Any

from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from trellis.apns.delivery import push_refusal, request_push
from trellis.audit.services import record_event
from trellis.mdm.command_types import CommandRefused, command_fields
from trellis.mdm.commands import cancel_command, enqueue_command, skip_head_command
from trellis.mdm.devices import identity_state
from trellis.mdm.models import Command, Device
from trellis.mdm.renewal import start_identity_renewal
from trellis.mdm.revocation import NoIdentity, revoke_identity

UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class DeviceSerializer(serializers.ModelSerializer[Device]):
    blueprint_name = serializers.CharField(
        source="blueprint.name", read_only=True, default=None
    )
    push_token_valid = serializers.SerializerMethodField()
    identity_expires_at = serializers.DateTimeField(
        source="identity_certificate.not_after", read_only=True, default=None
    )
    identity_state = serializers.SerializerMethodField()
    bootstrap_token_escrowed = serializers.SerializerMethodField()

    def get_identity_state(self, device: Device) -> str:
        return identity_state(device)

    def get_bootstrap_token_escrowed(self, device: Device) -> bool:
        return bool(device.bootstrap_token)

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
            "identity_expires_at",
            "identity_state",
            "awaiting_configuration",
            "bootstrap_token_escrowed",
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
    """A command as listed: what was asked and how it ended, not the answer."""

    command_uuid = serializers.UUIDField(source="uuid", read_only=True)
    payload = serializers.SerializerMethodField()

    class Meta:
        model = Command
        fields = [
            "command_uuid",
            "request_type",
            "status",
            "problem",
            "attempts",
            "payload",
            "created_at",
            "sent_at",
            "responded_at",
        ]
        read_only_fields = fields

    def get_payload(self, command: Command) -> Any:
        # Data fields (profiles with challenges, unlock tokens) are secrets
        # or bulk: only their size is shown.
        return _json_safe(command.payload_dict().get("Command", {}), hide_data=True)


class CommandResultSerializer(CommandSerializer):
    """A command with the device's answer."""

    result = serializers.SerializerMethodField()

    class Meta(CommandSerializer.Meta):
        fields = [*CommandSerializer.Meta.fields, "result"]
        read_only_fields = fields

    def get_result(self, command: Command) -> Any:
        return _json_safe(command.result_dict())


class QueueCommandSerializer(serializers.Serializer[None]):
    request_type = serializers.CharField(max_length=64)
    parameters = serializers.DictField(required=False, default=dict)


class DeviceFilter(serializers.Serializer[None]):
    """The filters of the device list, checked before they reach the database."""

    status = serializers.ChoiceField(choices=Device.Status.choices, required=False)
    blueprint = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False
    )
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

    @action(detail=True, methods=["get", "post"])
    def commands(self, request: Request, pk: str | None = None) -> Response:
        """List the device's commands, newest first; POST queues one."""
        device = self.get_object()
        if request.method == "POST":
            return self._queue(request, device)
        commands = device.commands.defer("result").order_by("-id")
        page = self.paginate_queryset(commands)
        serializer = CommandSerializer(
            page if page is not None else commands, many=True
        )
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)

    @action(
        detail=True, methods=["get"], url_path=rf"commands/(?P<command_uuid>{UUID})"
    )
    def command(
        self, request: Request, pk: str | None = None, command_uuid: str = ""
    ) -> Response:
        """One command, with the device's answer."""
        return Response(CommandResultSerializer(self._command(command_uuid)).data)

    @action(
        detail=True,
        methods=["post"],
        url_path=rf"commands/(?P<command_uuid>{UUID})/cancel",
    )
    def cancel(
        self, request: Request, pk: str | None = None, command_uuid: str = ""
    ) -> Response:
        """Cancel a command the device has not answered."""
        command = self._command(command_uuid)
        if not cancel_command(command, request.user.get_username()):
            return Response(
                {"detail": f"The command is {command.status}; it is not waiting."},
                status=status.HTTP_409_CONFLICT,
            )
        command.refresh_from_db()
        return Response(CommandSerializer(command).data)

    @action(detail=True, methods=["post"], url_path="skip-head")
    def skip_head(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the command at the head of the queue, so the rest can go."""
        skipped = skip_head_command(self.get_object(), request.user.get_username())
        if skipped is None:
            return Response(
                {"detail": "Nothing is waiting."}, status=status.HTTP_409_CONFLICT
            )
        skipped.refresh_from_db()
        return Response(CommandSerializer(skipped).data)

    @action(detail=True, methods=["post"], url_path="renew-identity")
    def renew_identity(self, request: Request, pk: str | None = None) -> Response:
        """Renew the device's identity now rather than when it nears expiry."""
        device = self.get_object()
        if device.status not in Device.MANAGED or device.identity_certificate is None:
            return Response({"detail": "The device is not enrolled."}, status=409)
        if device.identity_certificate.revoked_at is not None:
            return Response(
                {"detail": "The device's identity is revoked; it must enroll again."},
                status=409,
            )
        command = start_identity_renewal(device, actor=request.user.get_username())
        return Response(
            CommandSerializer(command).data, status=status.HTTP_202_ACCEPTED
        )

    def _queue(self, request: Request, device: Device) -> Response:
        form = QueueCommandSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if device.status not in Device.MANAGED:
            return Response({"detail": "The device is not enrolled."}, status=409)
        request_type = form.validated_data["request_type"]
        try:
            fields = command_fields(
                device, request_type, form.validated_data["parameters"]
            )
        except CommandRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        command = enqueue_command(device, request_type, fields)
        record_event(
            "command.queued",
            device,
            request.user.get_username(),
            command_uuid=str(command.uuid),
            request_type=request_type,
        )
        return Response(CommandSerializer(command).data, status=status.HTTP_201_CREATED)

    def _command(self, command_uuid: str) -> Command:
        device = self.get_object()
        command = device.commands.filter(uuid=command_uuid).first()
        if command is None:
            raise NotFound("No such command for this device.")
        return command


def _json_safe(value: Any, hide_data: bool = False) -> Any:
    """Property list values as JSON: data as hex (or only its size), dates as ISO."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v, hide_data) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, hide_data) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>" if hide_data else value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
