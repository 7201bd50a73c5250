"""The Django admin, for what the admin pages must do until Trellis has its own."""

import pytest
from django.test import Client

from trellis.audit.models import AuditEvent
from trellis.blueprints.models import Blueprint, EnrollmentCode
from trellis.enrollment.models import EnrollmentPortal
from trellis.mdm.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def test_creating_a_blueprint_in_the_admin_gives_it_a_code(signed_in: Client) -> None:
    response = signed_in.post(
        "/admin/blueprints/blueprint/add/",
        {
            "name": "Kiosks",
            "enrollment_enabled": "on",
            "enrollment_codes-TOTAL_FORMS": "0",
            "enrollment_codes-INITIAL_FORMS": "0",
            "library_items-TOTAL_FORMS": "0",
            "library_items-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    blueprint = Blueprint.objects.get(name="Kiosks")
    assert (
        EnrollmentCode.objects.filter(blueprint=blueprint, retired_at=None).count() == 1
    )


def test_change_code_action(signed_in: Client, blueprint) -> None:
    old = blueprint.current_code.code
    response = signed_in.post(
        "/admin/blueprints/blueprint/",
        {"action": "change_code_action", "_selected_action": [blueprint.pk]},
    )
    assert response.status_code == 302
    assert blueprint.current_code.code != old


def test_switching_the_portal_in_the_admin_is_audited(signed_in: Client) -> None:
    portal = EnrollmentPortal.load()
    response = signed_in.post(
        f"/admin/enrollment/enrollmentportal/{portal.pk}/change/", {"enabled": "on"}
    )
    assert response.status_code == 302
    assert EnrollmentPortal.load().enabled
    assert AuditEvent.objects.filter(action="portal.enabled", actor="root").exists()


def test_device_pages_render(signed_in: Client, devices) -> None:
    device = devices.enrolled()
    device.run_commands()
    row = Device.objects.get(udid=device.persona.udid)
    assert signed_in.get("/admin/mdm/device/").status_code == 200
    page = signed_in.get(f"/admin/mdm/device/{row.pk}/change/")
    assert page.status_code == 200
    assert device.persona.serial_number.encode() in page.content
    assert device.push_magic.encode() not in page.content


def test_push_actions_from_the_admin(signed_in: Client, devices, monkeypatch) -> None:
    from trellis.mdm import admin as device_admin

    requested: list[list[int]] = []
    monkeypatch.setattr(
        device_admin, "request_push", lambda ids: requested.append(list(ids)) or 1
    )
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)

    response = signed_in.post(
        "/admin/mdm/device/", {"action": "push_now", "_selected_action": [row.pk]}
    )

    assert response.status_code == 302
    assert requested == [[row.pk]]
    listing = signed_in.get("/admin/mdm/device/").content.decode()
    assert "Token valid" in listing


def test_uploading_the_push_certificate_in_the_admin(signed_in: Client) -> None:
    from tests.support.certificates import DEFAULT_TOPIC, push_pair
    from trellis.apns.models import PushCertificate

    pair = push_pair()
    wrong = signed_in.post(
        "/admin/apns/pushcertificate/add/",
        {"certificate": pair.certificate_pem, "private_key": push_pair().key_pem},
    )
    assert wrong.status_code == 200
    assert b"does not belong to this certificate" in wrong.content
    assert not PushCertificate.objects.exists()

    right = signed_in.post(
        "/admin/apns/pushcertificate/add/",
        {"certificate": pair.certificate_pem, "private_key": pair.key_pem},
    )
    assert right.status_code == 302
    assert PushCertificate.objects.get().topic == DEFAULT_TOPIC


def test_locking_the_portal_in_the_admin_closes_it_and_is_audited(
    signed_in: Client, open_portal
) -> None:
    portal = EnrollmentPortal.load()
    response = signed_in.post(
        f"/admin/enrollment/enrollmentportal/{portal.pk}/change/",
        {"enabled": "on", "locked": "on"},
    )

    assert response.status_code == 302
    assert EnrollmentPortal.load().locked
    assert AuditEvent.objects.filter(action="portal.locked", actor="root").exists()
    assert not AuditEvent.objects.filter(action="portal.disabled").exists()
    signed_in.logout()
    assert signed_in.get("/enroll").status_code == 404
