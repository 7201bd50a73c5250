"""Guessing admin passwords through the admin's sign-in form."""

import pytest
from django.test import Client, override_settings

from trellis.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _sign_in(client: Client, password: str, address: str = "198.51.100.7"):
    return client.post(
        "/admin/login/",
        {"username": "root", "password": password},
        REMOTE_ADDR=address,
    )


@override_settings(TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS=3)
def test_past_the_limit_even_the_right_password_waits(admin_user) -> None:
    client = Client()
    failures = [_sign_in(client, f"guess {n}") for n in range(4)]
    refused = _sign_in(client, PASSWORD)

    assert [r.status_code for r in failures] == [200] * 4
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 900
    page = refused.content.decode()
    assert "Too many failed sign-ins have come from your network" in page
    assert "Traceback" not in page
    assert "_auth_user_id" not in client.session


@override_settings(TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS=3)
def test_another_address_can_still_sign_in(admin_user) -> None:
    for n in range(5):
        _sign_in(Client(), f"guess {n}", address="198.51.100.7")

    elsewhere = _sign_in(Client(), PASSWORD, address="203.0.113.9")

    assert elsewhere.status_code == 302


@override_settings(TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS=3)
def test_one_ipv6_network_is_one_address(admin_user) -> None:
    for n in range(4):
        _sign_in(Client(), "wrong", address=f"2001:db8:7:7::{n + 1:x}")

    refused = _sign_in(Client(), PASSWORD, address="2001:db8:7:7::ffff")

    assert refused.status_code == 429


@override_settings(TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS=3)
def test_throttling_is_audited_once(admin_user) -> None:
    for n in range(8):
        _sign_in(Client(), f"guess {n}")

    (event,) = AuditEvent.objects.filter(action="admin.sign_in_throttled")
    assert event.target_id == "198.51.100.7"
    assert event.detail["limit"] == 3


def test_signing_in_right_is_not_counted(admin_user) -> None:
    with override_settings(TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS=1):
        for _ in range(3):
            assert _sign_in(Client(), PASSWORD).status_code == 302
