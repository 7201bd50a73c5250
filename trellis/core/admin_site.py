"""Django's admin site, with failed sign-ins counted and throttled."""

import logging
import time

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from trellis.audit.models import AuditEvent
from trellis.core.addresses import client_address
from trellis.core.counting import Window, address_key, past

security_logger = logging.getLogger("trellis.security")

WINDOW_NAME = "admin-login-failures"


class TrellisAdminSite(AdminSite):
    """The admin site; its sign-in form stops answering guesses past a limit."""

    def login(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        now = time.time()
        window = Window.at(
            WINDOW_NAME, settings.TRELLIS_ADMIN_LOGIN_WINDOW_SECONDS, now
        )
        source = address_key(client_address(request))
        limit = settings.TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS
        if past(window.count("address", source), limit):
            return self._throttled(request, window.seconds_left(now))

        response = super().login(request, extra_context)
        if response.status_code == 200 and not request.user.is_authenticated:
            failures = window.increment("address", source)
            security_logger.warning(
                "admin sign-in failed address=%s username=%s failures=%s",
                source,
                request.POST.get("username", "")[:150],
                failures,
            )
            if limit and failures == limit + 1:
                _record_throttled(source, limit, window)
        return response

    def _throttled(self, request: HttpRequest, seconds: int) -> HttpResponse:
        minutes = max(1, (seconds + 59) // 60)
        context = {
            **self.each_context(request),
            "title": "Too many failed sign-ins",
            "minutes": minutes,
        }
        response = TemplateResponse(
            request, "admin/login_throttled.html", context, status=429
        )
        response["Retry-After"] = str(seconds)
        return response


def _record_throttled(source: str, limit: int, window: Window) -> None:
    # The target is the address: a failed sign-in has no account to point at.
    AuditEvent.objects.create(
        actor="system",
        action="admin.sign_in_throttled",
        target_type="address",
        target_id=source[:64],
        detail={"limit": limit, "window_seconds": window.seconds},
    )
