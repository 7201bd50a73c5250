from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from tests.support.certificates import push_pair
from trellis.apns.services import install_push_certificate, notify_expiry
from trellis.core.sealing import seal_text

pytestmark = pytest.mark.django_db


def _install(days_left: int) -> None:
    pair = push_pair(
        valid_from=timedelta(days=-100),
        valid_for=timedelta(days=100 + days_left, hours=1),
    )
    install_push_certificate(pair.certificate_pem, pair.key_pem)


def test_no_warning_before_30_days(client: Client, admin_user, settings) -> None:
    _install(days_left=31)
    client.force_login(admin_user)
    assert b"push-certificate-warning" not in client.get("/admin/").content
    assert notify_expiry() is False


def test_every_admin_page_warns_inside_30_days(client: Client, admin_user) -> None:
    _install(days_left=29)
    client.force_login(admin_user)
    for page in ("/admin/", "/admin/mdm/device/", "/admin/blueprints/blueprint/"):
        content = client.get(page).content.decode()
        assert 'id="push-certificate-warning"' in content, page
        assert "29 days left" in content


def test_the_warning_is_logged_and_mailed_once_a_day(settings, caplog) -> None:
    settings.TRELLIS_ADMIN_EMAILS = ["it@example.org"]
    _install(days_left=10)

    assert notify_expiry() is True
    assert notify_expiry() is False

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@example.org"]
    assert "10 days left" in mail.outbox[0].body
    assert caplog.text.count("push certificate needs attention") == 1


def test_an_expired_certificate_is_an_error_on_admin_pages(
    client: Client, admin_user
) -> None:
    pair = push_pair(valid_from=timedelta(days=-30), valid_for=timedelta(days=20))
    from trellis.apns.models import PushCertificate

    PushCertificate.objects.create(
        topic="com.apple.mgmt.External.x",
        not_after=pair.certificate.not_valid_after_utc,
        certificate_pem=pair.certificate_pem,
        sealed_private_key=seal_text(pair.key_pem),
    )
    client.force_login(admin_user)
    assert b"expired on" in client.get("/admin/").content
