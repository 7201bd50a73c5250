"""Enrollment lifecycle: re-enrollment, identity renewal, expiry, tokens, check-out."""

import base64
import json
import plistlib
from datetime import timedelta

import pytest
from django.utils import timezone

from trellis.audit.models import AuditEvent
from trellis.blueprints.services import change_code
from trellis.enrollment.models import EnrollmentSession
from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Command, Device
from trellis.mdm.renewal import renew_expiring_identities
from trellis.pki.cms import sign_detached, verify_signed_data
from trellis.pki.models import IssuedCertificate
from trellis.simulator.profile import read_enrollment_profile

pytestmark = pytest.mark.django_db


def _row(device) -> Device:
    return Device.objects.select_related("identity_certificate").get(
        udid=device.persona.udid
    )


def _checkin_raw(device, message: dict) -> "object":
    body = plistlib.dumps(message)
    signature = base64.b64encode(sign_detached(body, device.certificate, device.key))
    return device.client.put(
        "/mdm/checkin", content=body, headers={"Mdm-Signature": signature.decode()}
    )


@pytest.fixture
def renewal_window(settings) -> None:
    # Every identity issued now (valid a year) counts as expiring.
    settings.TRELLIS_IDENTITY_RENEWAL_DAYS = 400


def test_re_enrollment_cancels_the_old_queue_and_clears_every_token(devices) -> None:
    first = devices.enrolled("iphone")
    row = _row(first)
    Device.objects.filter(pk=row.pk).update(bootstrap_token=b"boot")
    leftover = enqueue_command(row, "ProfileList")

    again = devices.new("iphone")
    again.persona = first.persona
    again.obtain_identity()
    assert again.checkin(again.authenticate_message()).status_code == 200

    row.refresh_from_db()
    assert row.status == Device.Status.PENDING
    assert (row.push_token, row.unlock_token, row.bootstrap_token) == (None, None, None)
    assert Command.objects.get(pk=leftover.pk).status == Command.Status.CANCELLED
    assert AuditEvent.objects.filter(
        action="device.authenticated", detail__re_enrollment=True
    ).exists()

    assert again.checkin(again.token_update_message()).status_code == 200
    first_command = plistlib.loads(again.connect("Idle").content)
    assert first_command["Command"]["RequestType"] == "DeviceInformation"


def test_an_identity_is_renewed_before_it_expires_and_nothing_else_changes(
    devices, renewal_window
) -> None:
    device = devices.enrolled()
    device.run_commands()
    row = _row(device)
    old = row.identity_certificate
    waiting = enqueue_command(row, "CertificateList")

    assert renew_expiring_identities() == 1
    assert renew_expiring_identities() == 0, "one renewal at a time"
    handled = device.run_commands()

    assert handled[0] == "CertificateList" and "InstallProfile" in handled
    row.refresh_from_db()
    assert row.identity_certificate.fingerprint != old.fingerprint
    assert row.identity_certificate.serial_number == format(
        device.certificate.serial_number, "x"
    )
    assert IssuedCertificate.objects.get(pk=old.pk).revoked_at is not None
    assert bytes(row.push_token) == device.push_token, "tokens stay"
    assert Command.objects.get(pk=waiting.pk).status == Command.Status.ACKNOWLEDGED
    assert row.status == Device.Status.ENROLLED
    session = EnrollmentSession.objects.get(kind="renewal")
    assert session.status == EnrollmentSession.Status.ENROLLED
    assert AuditEvent.objects.filter(action="device.identity_renewed").exists()


def test_the_replaced_identity_speaks_no_more(devices, renewal_window) -> None:
    device = devices.enrolled()
    device.run_commands()
    old_certificate, old_key = device.certificate, device.key
    renew_expiring_identities()
    device.run_commands()

    device.certificate, device.key = old_certificate, old_key
    assert device.connect("Idle").status_code == 403


def test_renewal_through_authenticate_keeps_the_queue(devices, renewal_window) -> None:
    device = devices.enrolled()
    row = _row(device)
    renew_expiring_identities()
    install = plistlib.loads(device.connect("Idle").content)
    assert install["Command"]["RequestType"] == "DeviceInformation"
    device.connect(
        "Acknowledged", CommandUUID=install["CommandUUID"], QueryResponses={}
    )
    renewal = Command.objects.get(device=row, request_type="InstallProfile")
    profile = read_enrollment_profile(renewal.payload_dict()["Command"]["Payload"])
    device.obtain_identity(profile)

    # The device introduces its new identity with Authenticate.
    assert device.checkin(device.authenticate_message()).status_code == 200

    row.refresh_from_db()
    assert row.identity_certificate.serial_number == format(
        device.certificate.serial_number, "x"
    )
    assert row.status == Device.Status.ENROLLED
    assert Command.objects.get(pk=renewal.pk).status in Command.DELIVERABLE
    assert bytes(row.push_token) == device.push_token


def test_a_renewal_answered_with_an_error_is_started_again(
    devices, renewal_window
) -> None:
    device = devices.enrolled()
    device.run_commands()
    renew_expiring_identities()
    command = plistlib.loads(device.connect("Idle").content)
    assert command["Command"]["RequestType"] == "InstallProfile"
    device.connect("Error", CommandUUID=command["CommandUUID"], ErrorChain=[])

    assert renew_expiring_identities() == 1
    renewals = Command.objects.filter(request_type="InstallProfile").order_by("id")
    assert [c.status for c in renewals] == [Command.Status.ERROR, Command.Status.QUEUED]


def test_a_renewal_answered_not_now_is_retried_not_restarted(
    devices, renewal_window
) -> None:
    device = devices.enrolled()
    device.run_commands()
    renew_expiring_identities()
    device.not_now_for = {"InstallProfile"}
    device.run_commands()
    assert renew_expiring_identities() == 0

    device.not_now_for = set()
    assert device.run_commands() == ["InstallProfile"]
    assert _row(device).identity_certificate.serial_number == format(
        device.certificate.serial_number, "x"
    )


def test_renewal_does_not_depend_on_the_enrollment_code(
    devices, renewal_window
) -> None:
    device = devices.enrolled()
    device.run_commands()
    change_code(devices.blueprint)
    devices.blueprint.enrollment_enabled = False
    devices.blueprint.save()

    renew_expiring_identities()
    assert "InstallProfile" in device.run_commands()
    assert _row(device).identity_certificate.serial_number == format(
        device.certificate.serial_number, "x"
    )


def test_a_renewal_certificate_cannot_speak_for_another_device(
    devices, renewal_window
) -> None:
    device, other = devices.enrolled(), devices.enrolled()
    device.run_commands()
    renew_expiring_identities()
    renewal = Command.objects.get(device=_row(device), request_type="InstallProfile")
    other.obtain_identity(
        read_enrollment_profile(renewal.payload_dict()["Command"]["Payload"])
    )
    assert other.connect("Idle").status_code == 403
    assert other.checkin(other.authenticate_message()).status_code == 403


def test_an_expired_identity_is_shown_to_the_admin(api, devices) -> None:
    device = devices.enrolled()
    row = _row(device)
    IssuedCertificate.objects.filter(pk=row.identity_certificate_id).update(
        not_after=timezone.now() - timedelta(days=1)
    )
    shown = api.get(f"/api/v1/devices/{row.pk}/").json()
    assert shown["identity_state"] == "expired: re-enroll the device"


def test_check_out_disables_every_token(devices) -> None:
    device = devices.enrolled("iphone")
    assert device.checkin(device.checkout_message()).status_code == 200
    row = _row(device)
    assert (row.push_token, row.push_magic, row.unlock_token) == (None, "", None)
    assert row.status == Device.Status.UNENROLLED
    assert device.checkin(device.token_update_message()).status_code == 403


def test_clear_passcode_sends_the_unlock_token_byte_for_byte(api, devices) -> None:
    device = devices.enrolled("iphone")
    row = _row(device)
    message = device.token_update_message()
    unlock = message["UnlockToken"]
    assert device.checkin(message).status_code == 200

    queued = api.post(
        f"/api/v1/devices/{row.pk}/commands/",
        {"request_type": "ClearPasscode"},
        format="json",
    )

    assert queued.status_code == 201, queued.content
    assert queued.json()["payload"]["UnlockToken"] == f"<{len(unlock)} bytes>"
    command = Command.objects.get(uuid=queued.json()["command_uuid"])
    assert command.payload_dict()["Command"]["UnlockToken"] == unlock


def test_bootstrap_token_is_kept_and_returned(devices) -> None:
    device = devices.enrolled("mac")
    udid = device.persona.udid
    get = {"MessageType": "GetBootstrapToken", "UDID": udid}

    assert plistlib.loads(_checkin_raw(device, get).content) == {}
    token = bytes(range(256)) * 3
    stored = _checkin_raw(
        device,
        {
            "MessageType": "SetBootstrapToken",
            "UDID": udid,
            "BootstrapToken": token,
            "AwaitingConfiguration": True,
        },
    )
    assert stored.status_code == 200
    assert plistlib.loads(_checkin_raw(device, get).content) == {
        "BootstrapToken": token
    }
    assert _row(device).awaiting_configuration is True

    removed = _checkin_raw(device, {"MessageType": "SetBootstrapToken", "UDID": udid})
    assert removed.status_code == 200
    assert plistlib.loads(_checkin_raw(device, get).content) == {}


def test_the_profile_advertises_bootstrap_tokens(devices) -> None:
    profile = plistlib.loads(verify_signed_data(devices.profile_bytes()).content)
    mdm = next(
        p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.mdm"
    )
    assert "com.apple.mdm.bootstraptoken" in mdm["ServerCapabilities"]


def test_awaiting_configuration_is_recorded_and_device_configured_can_be_sent(
    api, devices
) -> None:
    device = devices.new("mac")
    device.obtain_identity()
    device.checkin(device.authenticate_message())
    device.checkin(device.token_update_message() | {"AwaitingConfiguration": True})
    row = _row(device)
    assert row.awaiting_configuration is True

    api.post(
        f"/api/v1/devices/{row.pk}/commands/",
        {"request_type": "DeviceConfigured"},
        format="json",
    )
    assert "DeviceConfigured" in device.run_commands()


@pytest.mark.parametrize(
    ("endpoint", "status", "check"),
    [
        (
            "tokens",
            200,
            lambda body: (
                set(json.loads(body)["SyncTokens"])
                == {"DeclarationsToken", "Timestamp"}
            ),
        ),
        (
            "declaration-items",
            200,
            lambda body: (
                json.loads(body)["Declarations"]
                == {
                    "Activations": [],
                    "Assets": [],
                    "Configurations": [],
                    "Management": [],
                }
            ),
        ),
        ("status", 200, lambda body: body == b""),
        ("declaration/configuration/x", 404, lambda body: True),
    ],
)
def test_declarative_management_gets_a_valid_empty_answer(
    devices, endpoint, status, check
) -> None:
    device = devices.enrolled()
    response = _checkin_raw(
        device,
        {
            "MessageType": "DeclarativeManagement",
            "UDID": device.persona.udid,
            "Endpoint": endpoint,
            "EnrollmentID": "x",
        },
    )
    assert response.status_code == status
    assert check(response.content)


def test_user_channel_messages_never_break_the_device_channel(devices) -> None:
    device = devices.enrolled("mac")
    udid = device.persona.udid
    user = {
        "UDID": udid,
        "UserID": "A1B2",
        "UserShortName": "ann",
        "UserLongName": "Ann",
    }
    assert (
        _checkin_raw(device, {"MessageType": "UserAuthenticate", **user}).status_code
        == 410
    )
    token_update = {
        "MessageType": "TokenUpdate",
        "Topic": device.profile.topic,
        "Token": b"u",
        "PushMagic": "U",
        **user,
    }
    assert _checkin_raw(device, token_update).status_code == 200
    assert device.connect("Idle", UserID="A1B2").content == b""

    row = _row(device)
    assert bytes(row.push_token) == device.push_token
    assert device.run_commands() == ["DeviceInformation"]
