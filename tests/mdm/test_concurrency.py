"""Real parallel requests against Trellis run with `make run` (both databases)."""

import plistlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.server import RunningServer
from trellis.simulator.device import SimulatedDevice
from trellis.simulator.personas import make_persona
from trellis.simulator.profile import read_enrollment_profile
from trellis.simulator.run import download_profile

pytestmark = [pytest.mark.thirdparty]


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    with httpx.Client(timeout=60) as shared:
        yield shared


def _device(
    server: RunningServer, code: str, client: httpx.Client, index: int, persona=None
):
    profile = read_enrollment_profile(
        download_profile(client, f"{server.url}/enroll", code)
    )
    return SimulatedDevice(persona or make_persona("mac", index), profile, client)


def _device_id(server: RunningServer, udid: str) -> list[dict]:
    with server.api() as api:
        return api.get("/devices/", params={"udid": udid}).json()["results"]


def test_parallel_requests_of_one_device_never_get_a_command_twice(
    ready_server, client
) -> None:
    server, blueprint = ready_server
    device = _device(server, blueprint["enrollment_code"], client, 1)
    device.enroll()
    (row,) = _device_id(server, device.persona.udid)
    with server.api() as api:
        for request_type in ("ProfileList", "CertificateList", "SecurityInfo"):
            api.post(
                f"/devices/{row['id']}/commands/", json={"request_type": request_type}
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: device.connect("Idle"), range(8)))

    assert all(answer.status_code == 200 for answer in answers)
    uuids = [plistlib.loads(a.content)["CommandUUID"] for a in answers if a.content]
    assert uuids, "some request got a command"
    assert len(uuids) == len(set(uuids)), f"a command went out twice: {uuids}"


def test_many_devices_answering_at_once_keep_their_own_results(
    ready_server, client
) -> None:
    server, blueprint = ready_server
    devices = [
        _device(server, blueprint["enrollment_code"], client, n) for n in range(10, 22)
    ]
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda d: d.enroll(), devices))
        handled = list(pool.map(lambda d: d.run_commands(), devices))

    assert all(commands == ["DeviceInformation"] for commands in handled)
    with server.api() as api:
        for device in devices:
            (row,) = _device_id(server, device.persona.udid)
            assert row["serial_number"] == device.persona.serial_number
            (command,) = api.get(f"/devices/{row['id']}/commands/").json()["results"]
            detail = api.get(
                f"/devices/{row['id']}/commands/{command['command_uuid']}/"
            ).json()
            assert detail["result"]["UDID"] == device.persona.udid
            assert detail["result"]["QueryResponses"]["UDID"] == device.persona.udid


def test_concurrent_authenticates_for_one_udid_leave_one_device(
    ready_server, client
) -> None:
    server, blueprint = ready_server
    persona = make_persona("iphone", 99)
    twins = [
        _device(server, blueprint["enrollment_code"], client, 99, persona)
        for _ in range(6)
    ]
    for twin in twins:
        twin.obtain_identity()

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda t: t.checkin(t.authenticate_message()), twins))

    assert [a.status_code for a in answers] == [200] * 6
    assert len(_device_id(server, persona.udid)) == 1
