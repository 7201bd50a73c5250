import base64
import plistlib
from datetime import timedelta

import pytest
from django.utils import timezone

from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Command, Device
from trellis.pki.cms import sign_detached

pytestmark = pytest.mark.django_db


def _commands_of(device) -> list[Command]:
    return list(Command.objects.filter(device__udid=device.persona.udid).order_by("id"))


def test_idle_gets_device_information_and_the_answer_updates_the_device(
    devices,
) -> None:
    device = devices.enrolled("iphone")

    response = device.connect("Idle")
    assert response.status_code == 200
    command = plistlib.loads(response.content)
    assert command["Command"]["RequestType"] == "DeviceInformation"
    assert _commands_of(device)[0].status == Command.Status.SENT

    status, answer = device.answer(command["Command"])
    done = device.connect(status, CommandUUID=command["CommandUUID"], **answer)
    assert done.status_code == 200
    assert done.content == b""

    row = Device.objects.get(udid=device.persona.udid)
    assert row.name == device.persona.device_name
    assert row.model == device.persona.model
    assert row.os_version == device.persona.os_version
    assert row.device_family == "iphone"
    stored = _commands_of(device)[0]
    assert stored.status == Command.Status.ACKNOWLEDGED
    assert stored.result_dict()["QueryResponses"]["UDID"] == device.persona.udid


def test_an_empty_queue_answers_200_with_no_body(devices) -> None:
    device = devices.enrolled()
    device.run_commands()
    response = device.connect("Idle")
    assert (response.status_code, response.content) == (200, b"")


def test_acknowledged_leads_to_the_next_command_in_order(devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    enqueue_command(row, "ProfileList")
    enqueue_command(row, "CertificateList")

    assert device.run_commands() == [
        "DeviceInformation",
        "ProfileList",
        "CertificateList",
    ]


def test_not_now_is_not_offered_again_in_the_same_session(devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    enqueue_command(row, "ProfileList")

    first = plistlib.loads(device.connect("Idle").content)
    assert first["Command"]["RequestType"] == "DeviceInformation"
    second = device.connect("NotNow", CommandUUID=first["CommandUUID"])
    assert plistlib.loads(second.content)["Command"]["RequestType"] == "ProfileList"
    third = plistlib.loads(second.content)
    after = device.connect(
        "Acknowledged", CommandUUID=third["CommandUUID"], ProfileList=[]
    )
    assert (after.status_code, after.content) == (200, b"")
    assert _commands_of(device)[0].status == Command.Status.NOT_NOW

    # A new session (Idle) offers it again.
    retry = plistlib.loads(device.connect("Idle").content)
    assert retry["CommandUUID"] == first["CommandUUID"]


def test_error_is_recorded_and_the_queue_moves_on(devices) -> None:
    device = devices.enrolled()
    row = Device.objects.get(udid=device.persona.udid)
    enqueue_command(row, "SomethingUnknown")

    assert device.run_commands() == ["DeviceInformation", "SomethingUnknown"]
    errored = _commands_of(device)[1]
    assert errored.status == Command.Status.ERROR
    assert errored.result_dict()["ErrorChain"][0]["ErrorCode"] == 12021


def test_an_answer_for_an_unknown_command_still_gets_the_next_one(devices) -> None:
    device = devices.enrolled()
    response = device.connect(
        "Acknowledged", CommandUUID="00000000-0000-0000-0000-000000000000"
    )
    assert response.status_code == 200
    assert (
        plistlib.loads(response.content)["Command"]["RequestType"]
        == "DeviceInformation"
    )


def test_a_sent_but_unanswered_command_waits_then_is_sent_again(devices) -> None:
    device = devices.enrolled()
    first = plistlib.loads(device.connect("Idle").content)

    # At once (two requests of one device in flight): not sent twice.
    assert device.connect("Idle").content == b""

    Command.objects.filter(uuid=first["CommandUUID"]).update(
        sent_at=timezone.now() - timedelta(minutes=5)
    )
    again = plistlib.loads(device.connect("Idle").content)
    assert again["CommandUUID"] == first["CommandUUID"]


@pytest.mark.parametrize(
    "message",
    [
        {"Status": "Idle"},
        {"UDID": "x", "Status": "Sleeping"},
        {"UDID": "x", "Status": "Acknowledged"},
    ],
    ids=["no-udid", "bad-status", "answer-without-uuid"],
)
def test_malformed_connect_messages_are_400(devices, message) -> None:
    device = devices.enrolled()
    body = plistlib.dumps(message)
    signature = base64.b64encode(
        sign_detached(body, device.certificate, device.key)
    ).decode()
    response = device.client.put(
        "/mdm/connect", content=body, headers={"Mdm-Signature": signature}
    )
    assert response.status_code == 400


def test_a_wrongly_typed_status_is_400(devices) -> None:
    device = devices.enrolled()
    body = plistlib.dumps({"UDID": device.persona.udid, "Status": ["Idle"]})
    signature = base64.b64encode(
        sign_detached(body, device.certificate, device.key)
    ).decode()
    response = device.client.put(
        "/mdm/connect", content=body, headers={"Mdm-Signature": signature}
    )
    assert response.status_code == 400


def test_device_information_with_nul_bytes_is_stored_clean(devices) -> None:
    device = devices.enrolled()
    command = plistlib.loads(device.connect("Idle").content)
    answer = {
        "UDID": device.persona.udid,
        "Status": "Acknowledged",
        "CommandUUID": command["CommandUUID"],
        "QueryResponses": {"DeviceName": "Ann\x00's Mac", "SerialNumber": "S" * 200},
    }
    body = plistlib.dumps(answer, fmt=plistlib.FMT_BINARY)
    signature = base64.b64encode(sign_detached(body, device.certificate, device.key))
    headers = {"Mdm-Signature": signature.decode()}
    response = device.client.put("/mdm/connect", content=body, headers=headers)
    assert response.status_code == 200
    row = Device.objects.get(udid=device.persona.udid)
    assert row.name == "Ann's Mac"
    assert row.serial_number == "S" * 64
