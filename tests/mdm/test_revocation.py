"""Revoking a device's identity, through the API and the admin, seen by devices."""

import pytest
from django.test import Client

from trellis.audit.models import AuditEvent
from trellis.mdm.models import Device
from trellis.pki.models import IssuedCertificate

pytestmark = pytest.mark.django_db


def _revoke(api, row: Device):
    return api.post(f"/api/v1/devices/{row.pk}/revoke-identity/")


def test_a_revoked_identity_is_refused_at_check_in_and_connect(api, devices) -> None:
    device = devices.enrolled("iphone")
    bystander = devices.enrolled("mac")
    row = Device.objects.get(udid=device.persona.udid)
    assert device.connect("Idle").status_code == 200

    response = _revoke(api, row)

    assert response.status_code == 200
    assert response.json()["identity_revoked_at"]
    assert device.connect("Idle").status_code == 403
    assert device.checkin(device.token_update_message()).status_code == 403
    assert device.checkin(device.authenticate_message()).status_code == 403
    assert device.checkin(device.checkout_message()).status_code == 403
    row.refresh_from_db()
    assert row.status == Device.Status.ENROLLED, "a refused device is not unenrolled"
    assert bystander.connect("Idle").status_code == 200


def test_the_device_api_shows_the_revocation_and_the_audit_trail_records_it(
    api, devices, admin_user
) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    assert api.get(f"/api/v1/devices/{row.pk}/").json()["identity_revoked_at"] is None

    first = _revoke(api, row).json()["identity_revoked_at"]
    again = _revoke(api, row)

    assert again.status_code == 200
    assert again.json()["identity_revoked_at"] == first, "the first time is kept"
    listed = api.get("/api/v1/devices/").json()["results"][0]
    assert listed["identity_revoked_at"] == first
    event = AuditEvent.objects.get(action="device.identity_revoked")
    assert event.actor == admin_user.username
    assert event.target_id == str(row.pk)
    certificate = IssuedCertificate.objects.get(pk=row.identity_certificate_id)
    assert event.detail["serial_number"] == certificate.serial_number
    assert certificate.revoked_at is not None


def test_a_revoked_device_is_not_pushed(api, devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    _revoke(api, row)

    response = api.post(f"/api/v1/devices/{row.pk}/push/")

    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]


def test_a_device_without_identity_cannot_be_revoked(api, blueprint) -> None:
    row = Device.objects.create(udid="NO-IDENTITY", blueprint=blueprint)

    response = _revoke(api, row)

    assert response.status_code == 409
    assert not AuditEvent.objects.filter(action="device.identity_revoked").exists()


def test_re_enrolling_brings_a_revoked_device_back(api, devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    _revoke(api, row)

    again = devices.new()
    again.persona = device.persona
    again.enroll()

    assert again.connect("Idle").status_code == 200
    detail = api.get(f"/api/v1/devices/{row.pk}/").json()
    assert detail["identity_revoked_at"] is None
    assert device.connect("Idle").status_code == 403, "the old identity stays revoked"


def test_the_admin_action_revokes_and_is_audited(
    client: Client, admin_user, devices
) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    client.force_login(admin_user)

    response = client.post(
        "/admin/mdm/device/",
        {"action": "revoke_identity_action", "_selected_action": [row.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert b"Identity revoked for 1 device(s)." in response.content
    assert device.connect("Idle").status_code == 403
    assert AuditEvent.objects.filter(
        action="device.identity_revoked", actor=admin_user.username
    ).exists()
    page = client.get(f"/admin/mdm/device/{row.pk}/change/")
    assert b"Identity revoked" in page.content
