"""Shared pieces of the admin REST API, and its entry point."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from trellis.core.errors import ProtocolError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer refusals with their status and reason, as DRF answers its own.

    Model validation errors become a 400 with their messages; a ProtocolError
    its own status with its reason as the detail.
    """
    if isinstance(exc, ProtocolError):
        refusal = exceptions.APIException(detail=exc.reason)
        refusal.status_code = exc.status
        exc = refusal
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    return drf_exception_handler(exc, context)


class ApiRoot(APIView):
    """The API's entry point: where each collection lives."""

    collections = {
        "blueprints": "blueprint-list",
        "devices": "device-list",
        "library_profiles": "library-profile-list",
        "enrollment_portal": "enrollment-portal",
        "apns_certificate": "apns-certificate",
        "apns_csr": "apns-csr",
    }

    def get(self, request: Request) -> Response:
        return Response(
            {
                name: reverse(route, request=request)
                for name, route in self.collections.items()
            }
        )
