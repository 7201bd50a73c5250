"""Admin REST API for the profile library and the profiles Blueprints carry."""

import json
import re
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from trellis.blueprints.models import Blueprint
from trellis.library.models import BlueprintItem, Profile
from trellis.library.profiles import MAX_PROFILE_BYTES, ProfileError, ProfileTooLarge
from trellis.library.services import (
    add_to_blueprint,
    delete_profile,
    remove_from_blueprint,
    replace_profile,
    upload_profile,
)

PROFILE_MEDIA_TYPE = "application/x-apple-aspen-config"

# Room for the multipart envelope around a profile of the largest size.
_MULTIPART_ALLOWANCE = 64 * 1024


class ProfileParser(BaseParser):
    """A profile sent as the whole request body; answers its bytes."""

    media_type = PROFILE_MEDIA_TYPE

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> bytes:
        if stream is None:
            return b""
        data: bytes = stream.read(MAX_PROFILE_BYTES + 1)
        if len(data) > MAX_PROFILE_BYTES:
            raise ProfileTooLarge(f"a profile may be {MAX_PROFILE_BYTES} bytes at most")
        return data


class ProfileRenderer(BaseRenderer):
    """A profile's bytes as devices get them; anything else (errors) as JSON."""

    media_type = PROFILE_MEDIA_TYPE
    format = "mobileconfig"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class ProfileSerializer(serializers.ModelSerializer[Profile]):
    blueprints = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Profile
        fields = [
            "id",
            "name",
            "identifier",
            "payload_uuid",
            "display_name",
            "organization",
            "description",
            "scope",
            "removal_disallowed",
            "payload_types",
            "payloads",
            "signed",
            "signer",
            "sha256",
            "size",
            "version",
            "uploaded_at",
            "uploaded_by",
            "created_at",
            "updated_at",
            "blueprints",
        ]
        read_only_fields = fields


class LibraryItemSerializer(serializers.ModelSerializer[BlueprintItem]):
    identifier = serializers.CharField(source="profile.identifier")
    name = serializers.CharField(source="profile.name")
    version = serializers.IntegerField(source="profile.version")

    class Meta:
        model = BlueprintItem
        fields = [
            "blueprint",
            "profile",
            "identifier",
            "name",
            "version",
            "added_at",
            "added_by",
        ]
        read_only_fields = fields


class LibraryItemRequestSerializer(serializers.Serializer[None]):
    profile = serializers.PrimaryKeyRelatedField(
        queryset=Profile.objects.defer("content")
    )


class ProfileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Profile],
):
    """Upload, list, read, replace, download and delete library profiles."""

    queryset = (
        Profile.objects.defer("content").prefetch_related("blueprints").order_by("id")
    )
    serializer_class = ProfileSerializer
    parser_classes = [ProfileParser, MultiPartParser]

    def create(self, request: Request) -> Response:
        data, name = _uploaded(request)
        profile, created = upload_profile(
            data, actor=request.user.get_username(), name=name
        )
        return Response(
            self.get_serializer(profile).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def update(self, request: Request, pk: str | None = None) -> Response:
        profile = self.get_object()
        data, name = _uploaded(request)
        replaced = replace_profile(
            profile, data, actor=request.user.get_username(), name=name
        )
        return Response(self.get_serializer(replaced).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        delete_profile(self.get_object(), actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(
        detail=True, methods=["get"], renderer_classes=[JSONRenderer, ProfileRenderer]
    )
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        """Answer the profile exactly as uploaded, as devices will get it."""
        profile = self.get_object()
        response = HttpResponse(bytes(profile.content), content_type=PROFILE_MEDIA_TYPE)
        response["Content-Disposition"] = (
            f'attachment; filename="{_file_name(profile.identifier)}"'
        )
        return response


class BlueprintLibraryItems(viewsets.GenericViewSet[Blueprint]):
    """The library items of a Blueprint, as actions of the Blueprint API."""

    @action(detail=True, methods=["get", "post"], url_path="library-items")
    def library_items(self, request: Request, pk: str | None = None) -> Response:
        blueprint = self.get_object()
        if request.method in ("GET", "HEAD"):
            items = (
                blueprint.library_items.select_related("profile")
                .defer("profile__content")
                .order_by("profile__name", "profile_id")
            )
            page = self.paginate_queryset(items)
            data = LibraryItemSerializer(page, many=True).data
            return self.get_paginated_response(data)

        form = LibraryItemRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        item, created = add_to_blueprint(
            blueprint,
            form.validated_data["profile"],
            actor=request.user.get_username(),
        )
        return Response(
            LibraryItemSerializer(item).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @action(
        detail=True,
        methods=["delete"],
        url_path=r"library-items/(?P<profile_id>[0-9]+)",
    )
    def remove_library_item(
        self, request: Request, pk: str | None = None, profile_id: str | None = None
    ) -> Response:
        blueprint = self.get_object()
        profile = get_object_or_404(Profile.objects.defer("content"), pk=profile_id)
        remove_from_blueprint(blueprint, profile, actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _uploaded(request: Request) -> tuple[bytes, str]:
    """Answer the uploaded profile's bytes and the name it was given, if any."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > MAX_PROFILE_BYTES + _MULTIPART_ALLOWANCE:
        raise ProfileTooLarge(f"a profile may be {MAX_PROFILE_BYTES} bytes at most")

    data = request.data
    if isinstance(data, bytes):
        return data, request.query_params.get("name", "")

    upload = request.FILES.get("file")
    if upload is None:
        raise ProfileError(
            "send the profile as a multipart file named 'file', or as the body "
            f"with Content-Type {PROFILE_MEDIA_TYPE}"
        )
    if upload.size is not None and upload.size > MAX_PROFILE_BYTES:
        raise ProfileTooLarge(f"a profile may be {MAX_PROFILE_BYTES} bytes at most")
    return upload.read(), str(data.get("name", ""))


def _file_name(identifier: str) -> str:
    """A safe download name made from the profile's identifier."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", identifier).strip("-.")
    return f"{stem or 'profile'}.mobileconfig"
