"""The command queue: no answer, however odd, and no command blocks a device."""

import base64
import plistlib
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone

from trellis.audit.models import AuditEvent
from trellis.mdm.commands import enqueue_command, expire_old_commands
from trellis.mdm.models import Command, Device
from trellis.pki.cms import sign_detached

pytestmark = pytest.mark.django_db


def _put_connect(device, body: bytes):
    signature = base64.b64encode(
        sign_detached(body, device.certificate, device.key)
    ).decode()
    return device.client.put(
        "/mdm/connect", content=body, headers={"Mdm-Signature": signature}
    )


def _enrolled_with(devices, *request_types: str):
    device = devices.enrolled()
    device.run_commands()
    row = Device.objects.get(udid=device.persona.udid)
    commands = [enqueue_command(row, request_type) for request_type in request_types]
    return device, row, commands


def test_an_unreadable_answer_is_kept_raw_and_the_queue_moves_on(devices) -> None:
    device, _, (first, second) = _enrolled_with(
        devices, "ProfileList", "CertificateList"
    )
    sent = plistlib.loads(device.connect("Idle").content)
    assert sent["CommandUUID"] == str(first.uuid).upper()
    garbage = (
        b"<?xml version='1.0'?><plist><dict><key>CommandUUID</key><string>"
        + sent["CommandUUID"].encode()
        + b"</string><key>Status</key><string>Acknowledged</string><broken"
    )

    response = _put_connect(device, garbage)

    assert response.status_code == 200
    assert plistlib.loads(response.content)["CommandUUID"] == str(second.uuid).upper()
    first.refresh_from_db()
    assert first.status == Command.Status.ERROR
    assert first.problem == "the answer is not a readable property list"
    assert first.result_bytes() == garbage


def test_an_answer_of_unexpected_types_is_kept_and_marked(devices) -> None:
    device, _row, (command,) = _enrolled_with(devices, "DeviceInformation")
    sent = plistlib.loads(device.connect("Idle").content)
    response = device.connect(
        "Acknowledged",
        CommandUUID=sent["CommandUUID"],
        QueryResponses=["not", "a", "dict"],
    )
    assert response.status_code == 200
    command.refresh_from_db()
    assert command.status == Command.Status.ACKNOWLEDGED
    assert "not a dictionary" in command.problem
    assert command.result_dict()["QueryResponses"] == ["not", "a", "dict"]


def test_a_command_never_answered_stops_blocking_the_queue(devices, settings) -> None:
    settings.TRELLIS_COMMAND_MAX_ATTEMPTS = 3
    settings.TRELLIS_COMMAND_REDELIVERY_SECONDS = 0
    device, _, (stuck, after) = _enrolled_with(
        devices, "ProfileList", "CertificateList"
    )

    uuids = [
        plistlib.loads(device.connect("Idle").content)["CommandUUID"] for _ in range(4)
    ]

    assert uuids[:3] == [str(stuck.uuid).upper()] * 3
    assert uuids[3] == str(after.uuid).upper()
    stuck.refresh_from_db()
    assert stuck.status == Command.Status.ERROR
    assert stuck.problem == "no answer after 3 deliveries"


def test_not_now_again_and_again_is_not_a_stuck_command(devices, settings) -> None:
    settings.TRELLIS_COMMAND_MAX_ATTEMPTS = 2
    device, _, (command,) = _enrolled_with(devices, "ProfileList")
    device.not_now_for = {"ProfileList"}
    for _ in range(5):
        device.run_commands()
    command.refresh_from_db()
    assert command.status == Command.Status.NOT_NOW
    device.not_now_for = set()
    assert device.run_commands() == ["ProfileList"]


def test_only_not_now_commands_left_means_an_empty_answer_and_no_push_loop(
    devices, settings, django_capture_on_commit_callbacks
) -> None:
    device, _row, _ = _enrolled_with(devices, "ProfileList")
    device.not_now_for = {"ProfileList"}
    sent = plistlib.loads(device.connect("Idle").content)
    with django_capture_on_commit_callbacks() as callbacks:
        answer = device.connect("NotNow", CommandUUID=sent["CommandUUID"])
    assert (answer.status_code, answer.content) == (200, b"")
    assert callbacks == [], "a NotNow does not ask for another push"


def test_admins_cancel_a_command_and_skip_a_stuck_head(api, devices) -> None:
    device, row, (head, middle, _tail) = _enrolled_with(
        devices, "ProfileList", "CertificateList", "SecurityInfo"
    )
    plistlib.loads(device.connect("Idle").content)  # the head is now sent

    cancelled = api.post(f"/api/v1/devices/{row.pk}/commands/{middle.uuid}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/devices/{row.pk}/commands/{middle.uuid}/cancel/")
    assert again.status_code == 409

    skipped = api.post(f"/api/v1/devices/{row.pk}/skip-head/")
    assert skipped.status_code == 200
    assert skipped.json()["command_uuid"] == str(head.uuid)
    assert device.run_commands() == ["SecurityInfo"]
    assert AuditEvent.objects.filter(action="command.cancelled").count() == 2


def test_old_commands_expire(devices, settings) -> None:
    settings.TRELLIS_COMMAND_EXPIRY_DAYS = 7
    _, _, (old, fresh) = _enrolled_with(devices, "ProfileList", "CertificateList")
    Command.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )

    assert expire_old_commands() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == (Command.Status.EXPIRED, Command.Status.QUEUED)


def test_a_huge_application_list_is_accepted_and_stored_compressed(
    api, devices
) -> None:
    device, row, (command,) = _enrolled_with(devices, "InstalledApplicationList")
    sent = plistlib.loads(device.connect("Idle").content)
    apps = [
        {
            "Identifier": f"com.example.app{n}",
            "Name": f"App {n}",
            "ShortVersion": "1.0",
            "Version": "1",
            "BundleSize": 1000 + n,
            "Installing": False,
        }
        for n in range(30_000)
    ]
    body = plistlib.dumps(
        {
            "UDID": device.persona.udid,
            "Status": "Acknowledged",
            "CommandUUID": sent["CommandUUID"],
            "InstalledApplicationList": apps,
        }
    )
    assert len(body) > 8 * 1024 * 1024

    response = _put_connect(device, body)

    assert (response.status_code, response.content) == (200, b"")
    command.refresh_from_db()
    assert command.status == Command.Status.ACKNOWLEDGED
    assert command.result_compressed
    assert len(bytes(command.result)) < len(body) / 10
    assert zlib.decompress(bytes(command.result)) == body
    detail = api.get(f"/api/v1/devices/{row.pk}/commands/{command.uuid}/").json()
    assert len(detail["result"]["InstalledApplicationList"]) == 30_000


def test_admins_queue_known_commands_with_checked_parameters(api, devices) -> None:
    _device, row, _ = _enrolled_with(devices)
    url = f"/api/v1/devices/{row.pk}/commands/"
    lock = api.post(
        url,
        {
            "request_type": "DeviceLock",
            "parameters": {"pin": "123456", "message": "Lost"},
        },
        format="json",
    )
    assert lock.status_code == 201, lock.content
    assert lock.json()["payload"] == {
        "RequestType": "DeviceLock",
        "PIN": "123456",
        "Message": "Lost",
    }

    for bad in (
        {"request_type": "Bogus"},
        {"request_type": "DeviceLock", "parameters": {"pin": "12"}},
        {"request_type": "ProfileList", "parameters": {"x": 1}},
        {"request_type": "ClearPasscode"},  # a Mac sends no unlock token
    ):
        refused = api.post(url, bad, format="json")
        assert refused.status_code == 400, bad
        assert refused.json()["detail"]


@pytest.mark.parametrize(
    "request_type, parameters, family",
    [
        (
            "DeviceLock",
            {"pin": "\u0661\u0662\u0663\u0664\u0665\u0666"},
            "mac",
        ),  # Arabic-Indic digits
        (
            "DeviceLock",
            {"pin": "\uff11\uff12\uff13\uff14\uff15\uff16"},
            "mac",
        ),  # full-width digits
        ("DeviceLock", {"pin": 123456}, "mac"),
        ("DeviceLock", {"message": "Lost\x1b[2J"}, "mac"),
        ("DeviceLock", {"message": "x" * 201}, "mac"),
        ("DeviceLock", {"phone_number": "555\x000100"}, "mac"),
        ("DeviceLock", {"pin": "123456"}, "iphone"),
        ("EraseDevice", {"pin": "123456"}, "iphone"),
    ],
)
def test_device_lock_refuses_what_a_device_could_not_show(
    api, devices, request_type, parameters, family
) -> None:
    device = devices.enrolled(family)
    row = Device.objects.get(udid=device.persona.udid)

    refused = api.post(
        f"/api/v1/devices/{row.pk}/commands/",
        {"request_type": request_type, "parameters": parameters},
        format="json",
    )

    assert refused.status_code == 400, refused.content
    assert refused.json()["detail"]
    assert not row.commands.filter(request_type=request_type).exists()


def test_an_answer_above_every_other_endpoints_limit_is_still_read(
    devices, settings
) -> None:
    device, _, (command,) = _enrolled_with(devices, "ProfileList")
    # The connect endpoint reads large answers itself, under its own limit.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    sent = plistlib.loads(device.connect("Idle").content)
    big = [
        {"PayloadIdentifier": f"p{n}", "PayloadDisplayName": "x" * 50}
        for n in range(200)
    ]
    answer = device.connect(
        "Acknowledged", CommandUUID=sent["CommandUUID"], ProfileList=big
    )
    assert answer.status_code == 200
    command.refresh_from_db()
    assert len(command.result_dict()["ProfileList"]) == 200


def test_an_answer_over_the_result_limit_is_413(devices, settings) -> None:
    settings.TRELLIS_RESULT_MAX_MB = 1
    device, _, _ = _enrolled_with(devices, "ProfileList")
    sent = plistlib.loads(device.connect("Idle").content)
    huge = device.connect(
        "Acknowledged", CommandUUID=sent["CommandUUID"], Blob=b"x" * (2 * 1024 * 1024)
    )
    assert huge.status_code == 413
