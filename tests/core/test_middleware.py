import re

import pytest
from django.test import Client, override_settings

from trellis.core.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_html_pages_get_a_strict_content_security_policy(
    client: Client, open_portal
) -> None:
    for response in (
        client.get("/enroll"),
        client.post("/enroll", {"code": "wrong"}),
        client.get("/admin/login/"),
    ):
        assert response["Content-Type"].startswith("text/html")
        directives = _directives(response)
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert not any("unsafe" in value for value in directives.values())
        assert response["X-Frame-Options"] == "DENY"


def test_the_portal_page_needs_nothing_inline(client: Client, open_portal) -> None:
    page = client.get("/enroll").content.decode()

    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)
    assert not re.search(r"\son[a-z]+=", page), "no inline event handlers"


def test_the_policy_is_the_one_documented(client: Client, open_portal) -> None:
    assert client.get("/enroll")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert client.get("/healthz").get("Content-Security-Policy") is None


@override_settings(SECURE_HSTS_SECONDS=31_536_000)
def test_hsts_is_sent_when_the_public_address_is_https(client: Client) -> None:
    # Plain HTTP here, as behind the TLS-terminating proxy.
    response = client.get("/admin/login/")
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_for_a_plain_http_address(client: Client) -> None:
    assert "Strict-Transport-Security" not in client.get("/admin/login/")


def test_admin_cookies_are_http_only(client: Client, admin_user) -> None:
    page = client.get("/admin/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/admin/login/",
        {
            "username": "root",
            "password": "correct horse battery",
            "csrfmiddlewaretoken": token,
        },
    )

    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert page.cookies["csrftoken"]["httponly"]
