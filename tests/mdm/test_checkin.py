import base64
import plistlib
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.utils import timezone

from tests.support.certificates import foreign_authority, rsa_key
from trellis.audit.models import AuditEvent
from trellis.blueprints.services import change_code
from trellis.enrollment.models import EnrollmentSession
from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Command, Device
from trellis.pki.authority import get_authority
from trellis.pki.cms import sign_detached

pytestmark = pytest.mark.django_db


def _put(device, body: bytes, signature: bytes | None, path: str = "/mdm/checkin"):
    headers = {"Content-Type": "application/x-apple-aspen-mdm-checkin"}
    if signature is not None:
        headers["Mdm-Signature"] = base64.b64encode(signature).decode()
    return device.client.put(path, content=body, headers=headers)


def test_authenticate_then_token_update_enrolls_and_queues_device_information(
    devices,
) -> None:
    device = devices.new("mac")
    device.obtain_identity()

    assert device.checkin(device.authenticate_message()).status_code == 200
    row = Device.objects.get(udid=device.persona.udid)
    assert row.status == Device.Status.PENDING
    assert row.blueprint == devices.blueprint
    assert row.serial_number == device.persona.serial_number
    assert row.device_family == "mac"
    assert not row.commands.exists()

    assert device.checkin(device.token_update_message()).status_code == 200
    row.refresh_from_db()
    assert row.status == Device.Status.ENROLLED
    assert bytes(row.push_token) == device.push_token
    assert row.push_magic == device.push_magic
    command = row.commands.get()
    assert command.request_type == "DeviceInformation"
    queries = command.payload_dict()["Command"]["Queries"]
    for name in (
        "DeviceName",
        "Model",
        "ModelName",
        "ProductName",
        "SerialNumber",
        "OSVersion",
        "BuildVersion",
        "UDID",
    ):
        assert name in queries
    session = EnrollmentSession.objects.get()
    assert session.status == EnrollmentSession.Status.ENROLLED
    assert row.enrollment_session == session
    assert AuditEvent.objects.filter(
        action="device.enrolled", target_id=str(row.pk)
    ).exists()


def test_a_second_token_update_queues_nothing_more_and_keeps_the_unlock_token(
    devices,
) -> None:
    device = devices.enrolled("iphone")
    row = Device.objects.get(udid=device.persona.udid)
    unlock = bytes(row.unlock_token)

    message = device.token_update_message()
    del message["UnlockToken"]
    message["Token"] = b"\x01" * 32
    assert device.checkin(message).status_code == 200

    row.refresh_from_db()
    assert bytes(row.push_token) == b"\x01" * 32
    assert bytes(row.unlock_token) == unlock
    assert row.commands.count() == 1


def test_check_out_marks_the_device_unenrolled(devices) -> None:
    device = devices.enrolled()
    assert device.checkin(device.checkout_message()).status_code == 200
    row = Device.objects.get(udid=device.persona.udid)
    assert row.status == Device.Status.UNENROLLED
    assert row.commands.get().status == Command.Status.CANCELLED
    assert device.connect("Idle").status_code == 403


def test_user_authenticate_is_gone(devices) -> None:
    device = devices.enrolled()
    response = device.checkin(
        {
            "MessageType": "UserAuthenticate",
            "UDID": device.persona.udid,
            "UserID": "A-B",
            "UserShortName": "ann",
            "UserLongName": "Ann",
        }
    )
    assert response.status_code == 410
    assert response.content == b""


def test_unknown_message_type_is_400(devices) -> None:
    device = devices.enrolled()
    response = device.checkin({"MessageType": "Bogus", "UDID": device.persona.udid})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a plist",
        b"<?xml version='1.0'?><plist><array/></plist>",
        b"bplist00\xff\xff",
        plistlib.dumps({"MessageType": "TokenUpdate"}),
    ],
    ids=["empty", "text", "array", "broken-binary", "no-udid"],
)
def test_unreadable_bodies_are_400(devices, body: bytes) -> None:
    device = devices.enrolled()
    signature = sign_detached(body, device.certificate, device.key)
    assert _put(device, body, signature).status_code == 400


def test_a_missing_signature_is_refused_without_unenrolling(devices) -> None:
    device = devices.enrolled()
    body = plistlib.dumps(device.token_update_message())
    response = _put(device, body, None)
    assert response.status_code == 403
    assert response.content == b""


def test_a_tampered_body_is_refused(devices) -> None:
    device = devices.enrolled()
    original = plistlib.dumps(device.token_update_message())
    signature = sign_detached(original, device.certificate, device.key)
    tampered = original.replace(device.push_magic.encode(), b"ATTACKER-MAGIC")

    assert _put(device, tampered, signature).status_code == 403
    assert Device.objects.get(udid=device.persona.udid).push_magic == device.push_magic


def test_a_certificate_from_a_foreign_ca_is_refused(devices) -> None:
    device = devices.enrolled()
    key = rsa_key()
    impostor = foreign_authority(name=get_authority().certificate.subject).issue(key)
    body = plistlib.dumps(device.token_update_message())

    assert _put(device, body, sign_detached(body, impostor, key)).status_code == 403
    idle = plistlib.dumps({"UDID": device.persona.udid, "Status": "Idle"})
    assert (
        _put(
            device, idle, sign_detached(idle, impostor, key), "/mdm/connect"
        ).status_code
        == 403
    )


def test_another_devices_certificate_cannot_speak_for_it(devices) -> None:
    victim, attacker = devices.enrolled(), devices.enrolled()
    message = victim.token_update_message() | {"PushMagic": "STOLEN"}
    body = plistlib.dumps(message)

    response = _put(
        victim, body, sign_detached(body, attacker.certificate, attacker.key)
    )

    assert response.status_code == 403
    assert Device.objects.get(udid=victim.persona.udid).push_magic == victim.push_magic
    connect = plistlib.dumps({"UDID": victim.persona.udid, "Status": "Idle"})
    signature = sign_detached(connect, attacker.certificate, attacker.key)
    assert _put(victim, connect, signature, "/mdm/connect").status_code == 403


def test_a_certificate_bound_at_authenticate_cannot_authenticate_another_udid(
    devices,
) -> None:
    device = devices.enrolled()
    message = device.authenticate_message() | {"UDID": "SOMEONE-ELSE"}
    assert device.checkin(message).status_code == 403
    assert not Device.objects.filter(udid="SOMEONE-ELSE").exists()


def test_an_expired_identity_is_refused(devices) -> None:
    device = devices.new()
    device.obtain_identity()
    authority = get_authority()
    expired = (
        x509.CertificateBuilder()
        .subject_name(device.certificate.subject)
        .issuer_name(authority.certificate.subject)
        .public_key(device.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(timezone.now() - timedelta(days=10))
        .not_valid_after(timezone.now() - timedelta(days=1))
        .sign(authority.key, hashes.SHA256())
    )
    device.certificate = expired
    assert device.checkin(device.authenticate_message()).status_code == 403


def test_change_code_refuses_the_check_in_of_an_outstanding_profile(devices) -> None:
    enrolled = devices.enrolled()
    outstanding = devices.new()
    outstanding.obtain_identity()  # SCEP done before the change, Authenticate after

    change_code(devices.blueprint)

    assert outstanding.checkin(outstanding.authenticate_message()).status_code == 403
    assert not Device.objects.filter(udid=outstanding.persona.udid).exists()
    # Devices already enrolled are untouched.
    assert enrolled.connect("Idle").status_code == 200
    assert enrolled.checkin(enrolled.token_update_message()).status_code == 200


def test_authenticate_for_another_topic_is_refused(devices) -> None:
    device = devices.new()
    device.obtain_identity()
    message = device.authenticate_message() | {
        "Topic": "com.apple.mgmt.External.someone-else"
    }
    assert device.checkin(message).status_code == 403


def test_re_enrollment_empties_the_queue(devices) -> None:
    first = devices.enrolled()
    row = Device.objects.get(udid=first.persona.udid)
    leftover = enqueue_command(row, "ProfileList")

    # The same device (same UDID) installs a freshly downloaded profile.
    again = devices.new()
    again.persona = first.persona
    again.enroll()

    row.refresh_from_db()
    assert row.status == Device.Status.ENROLLED
    leftover.refresh_from_db()
    assert leftover.status == Command.Status.CANCELLED
    deliverable = row.commands.filter(status__in=Command.DELIVERABLE)
    assert [c.request_type for c in deliverable] == ["DeviceInformation"]
    assert Device.objects.filter(udid=first.persona.udid).count() == 1
    # The old identity no longer speaks for the device.
    assert first.connect("Idle").status_code == 403
    assert again.run_commands() == ["DeviceInformation"]


def test_a_wrongly_typed_message_type_is_400_when_signed_and_403_when_not(
    devices,
) -> None:
    device = devices.enrolled()
    body = plistlib.dumps({"MessageType": [], "UDID": "X"})
    signature = sign_detached(body, device.certificate, device.key)
    assert _put(device, body, None).status_code == 403
    assert _put(device, body, signature).status_code == 400


def test_a_replayed_authenticate_does_not_wipe_the_device(devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    body = plistlib.dumps(device.authenticate_message())
    signature = sign_detached(body, device.certificate, device.key)

    assert _put(device, body, signature).status_code == 200

    row.refresh_from_db()
    assert row.status == Device.Status.ENROLLED
    assert bytes(row.push_token) == device.push_token
    assert row.commands.get().status == Command.Status.QUEUED
    assert device.connect("Idle").status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"UDID": "A" * 65},
        {"UDID": "ABC\x00DEF"},
        {"UDID": "ABC DEF"},
        {"UDID": 12345},
        {"Topic": ["x"]},
    ],
    ids=["long-udid", "nul-udid", "space-udid", "number-udid", "list-topic"],
)
def test_implausible_identifiers_are_400(devices, changes) -> None:
    device = devices.new()
    device.obtain_identity()
    body = plistlib.dumps(
        device.authenticate_message() | changes, fmt=plistlib.FMT_BINARY
    )
    response = _put(device, body, sign_detached(body, device.certificate, device.key))
    assert response.status_code == 400
    assert not Device.objects.exists()


def test_nul_and_overlong_values_from_devices_are_stored_clean(devices) -> None:
    device = devices.new()
    device.obtain_identity()
    message = device.authenticate_message() | {
        "SerialNumber": "C02\x00XYZ",
        "OSVersion": "1" * 500,
    }
    body = plistlib.dumps(message, fmt=plistlib.FMT_BINARY)
    assert (
        _put(
            device, body, sign_detached(body, device.certificate, device.key)
        ).status_code
        == 200
    )
    row = Device.objects.get(udid=device.persona.udid)
    assert row.serial_number == "C02XYZ"
    assert row.os_version == "1" * 32


@pytest.mark.parametrize("push_magic", ["M" * 1000, "bad\x00magic", 7])
def test_implausible_push_magic_is_400(devices, push_magic) -> None:
    device = devices.new()
    device.obtain_identity()
    device.checkin(device.authenticate_message())
    message = device.token_update_message() | {"PushMagic": push_magic}
    body = plistlib.dumps(message, fmt=plistlib.FMT_BINARY)
    assert (
        _put(
            device, body, sign_detached(body, device.certificate, device.key)
        ).status_code
        == 400
    )
    assert Device.objects.get(udid=device.persona.udid).status == Device.Status.PENDING


def test_user_channel_messages_must_come_from_the_device(devices) -> None:
    victim, stranger = devices.enrolled(), devices.enrolled()
    message = {
        "MessageType": "TokenUpdate",
        "UDID": victim.persona.udid,
        "UserID": "U-1",
        "Topic": victim.profile.topic,
        "Token": b"t",
        "PushMagic": "m",
    }
    body = plistlib.dumps(message)
    forged = _put(victim, body, sign_detached(body, stranger.certificate, stranger.key))
    genuine = _put(victim, body, sign_detached(body, victim.certificate, victim.key))
    assert (forged.status_code, genuine.status_code) == (403, 200)
