"""Revoking a device's identity, through the API and the admin, seen by devices."""

import base64
import plistlib

import pytest
from django.test import Client

from trellis.audit.models import AuditEvent
from trellis.mdm.models import Command, Device
from trellis.pki.cms import sign_detached
from trellis.pki.models import IssuedCertificate
from trellis.simulator.device import SimulationError
from trellis.simulator.profile import read_enrollment_profile

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


def test_an_unreadable_answer_with_a_revoked_identity_is_refused(api, devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    sent = plistlib.loads(device.connect("Idle").content)
    _revoke(api, row)
    garbage = (
        f"<key>CommandUUID</key><string>{sent['CommandUUID']}</string> not a plist"
    )
    body = garbage.encode()
    signature = base64.b64encode(sign_detached(body, device.certificate, device.key))

    response = device.client.put(
        "/mdm/connect", content=body, headers={"Mdm-Signature": signature.decode()}
    )

    assert (response.status_code, response.content) == (403, b"")
    assert Command.objects.get(uuid=sent["CommandUUID"]).status == Command.Status.SENT


def test_a_revoked_device_cannot_be_renewed(api, devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    _revoke(api, row)

    response = api.post(f"/api/v1/devices/{row.pk}/renew-identity/")

    assert response.status_code == 409
    assert not Command.objects.filter(
        device=row, request_type="InstallProfile"
    ).exists()


def test_revoking_stops_a_renewal_under_way(api, devices) -> None:
    device = devices.enrolled()
    device.run_commands()
    row = Device.objects.get(udid=device.persona.udid)
    assert api.post(f"/api/v1/devices/{row.pk}/renew-identity/").status_code == 202
    install = plistlib.loads(device.connect("Idle").content)
    assert install["Command"]["RequestType"] == "InstallProfile"
    renewal = read_enrollment_profile(install["Command"]["Payload"])

    _revoke(api, row)

    # The device installs the renewal profile it already holds: SCEP refuses
    # the challenge, and nothing it signs gets through.
    with pytest.raises(SimulationError, match="SCEP refused"):
        device.obtain_identity(renewal)
    assert device.connect("Idle").status_code == 403
    row.refresh_from_db()
    assert row.identity_certificate.revoked_at is not None
    assert not IssuedCertificate.objects.filter(
        enrollment_session__renewal_of=row, revoked_at__isnull=True
    ).exists()


def test_a_renewal_certificate_issued_before_revocation_is_not_adopted(
    api, devices
) -> None:
    device = devices.enrolled()
    device.run_commands()
    row = Device.objects.get(udid=device.persona.udid)
    api.post(f"/api/v1/devices/{row.pk}/renew-identity/")
    install = plistlib.loads(device.connect("Idle").content)
    old_certificate, old_key = device.certificate, device.key
    device.obtain_identity(read_enrollment_profile(install["Command"]["Payload"]))
    renewed_certificate, renewed_key = device.certificate, device.key
    device.certificate, device.key = old_certificate, old_key

    _revoke(api, row)

    device.certificate, device.key = renewed_certificate, renewed_key
    assert device.connect("Idle").status_code == 403
    assert device.checkin(device.authenticate_message()).status_code == 403
    row.refresh_from_db()
    assert (
        row.identity_certificate.fingerprint
        != IssuedCertificate.from_certificate(renewed_certificate).fingerprint
    )
    assert row.identity_certificate.revoked_at is not None
