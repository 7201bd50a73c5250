"""The enrollment portal: one page, one code field, one profile download."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from trellis.blueprints.services import find_enrollable_code
from trellis.enrollment.services import portal_is_open, start_enrollment

logger = logging.getLogger(__name__)

NOT_FOUND_BODY = b'{"detail":"Not found."}'

CODE_REFUSED = (
    "That code did not work. Check it and try again, or ask your administrator "
    "for a current code."
)

MAX_CODE_INPUT = 64


def not_found() -> HttpResponse:
    """The answer of every portal address while the portal does not exist."""
    return HttpResponse(NOT_FOUND_BODY, status=404, content_type="application/json")


# The form carries no authority (the code is the credential and there is no
# login), and people download profiles with plain HTTP clients such as curl,
# so the portal form is exempt from CSRF tokens.
@csrf_exempt
@never_cache
def portal(request: HttpRequest) -> HttpResponse:
    """Show the code form, or answer a valid code with its enrollment profile."""
    # The closed portal does not exist, whatever the method.
    if not portal_is_open():
        return not_found()
    if request.method == "HEAD":
        return HttpResponse(content_type="text/html; charset=utf-8")
    if request.method == "GET":
        return _page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])

    entered = request.POST.get("code", "")[:MAX_CODE_INPUT]
    code = find_enrollable_code(entered)
    if code is None:
        logger.info(
            "enrollment code refused client_ip=%s", request.META.get("REMOTE_ADDR")
        )
        # The answer is the same page whatever was typed, so it tells nothing
        # about whether a code exists, was retired or is switched off.
        return _page(request, error=CODE_REFUSED)

    download = start_enrollment(
        code,
        client_ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    response = HttpResponse(
        download.content, content_type="application/x-apple-aspen-config"
    )
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


@csrf_exempt
def portal_missing(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under the portal."""
    return not_found()


def _page(request: HttpRequest, error: str = "") -> HttpResponse:
    context = {"organization": settings.TRELLIS_ORGANIZATION, "error": error}
    return render(request, "enrollment/portal.html", context)
