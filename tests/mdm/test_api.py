import pytest

pytestmark = pytest.mark.django_db


def test_devices_are_listed_with_their_blueprint_and_commands(api, devices) -> None:
    device = devices.enrolled("ipad")
    device.run_commands()

    listing = api.get("/api/v1/devices/")
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["udid"] == device.persona.udid
    assert row["serial_number"] == device.persona.serial_number
    assert row["device_family"] == "ipad"
    assert row["model"] == device.persona.model
    assert row["os_version"] == device.persona.os_version
    assert row["name"] == device.persona.device_name
    assert row["blueprint"] == devices.blueprint.pk
    assert row["status"] == "enrolled"
    assert row["last_seen"]
    for secret in ("push_token", "push_magic", "unlock_token"):
        assert secret not in row

    detail = api.get(f"/api/v1/devices/{row['id']}/").json()
    assert detail["udid"] == device.persona.udid

    commands = api.get(f"/api/v1/devices/{row['id']}/commands/").json()["results"]
    assert [(c["request_type"], c["status"]) for c in commands] == [
        ("DeviceInformation", "acknowledged")
    ]
    assert "result" not in commands[0]
    uuid = commands[0]["command_uuid"]
    detail = api.get(f"/api/v1/devices/{row['id']}/commands/{uuid}/").json()
    responses = detail["result"]["QueryResponses"]
    assert responses["SerialNumber"] == device.persona.serial_number


def test_devices_filter_by_blueprint_and_status(api, devices) -> None:
    devices.enrolled()
    blueprint = devices.blueprint.pk
    assert (
        api.get(f"/api/v1/devices/?blueprint={blueprint}&status=enrolled").json()[
            "count"
        ]
        == 1
    )
    assert api.get("/api/v1/devices/?status=unenrolled").json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "blueprint=9223372036854775808",
        "blueprint=abc",
        "blueprint=1.5",
        "udid=a%00b",
        "serial_number=a%00b",
        "status=nope",
    ],
)
def test_bad_filters_are_a_readable_400(api, query) -> None:
    response = api.get(f"/api/v1/devices/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_an_unknown_device_is_404(api) -> None:
    assert api.get("/api/v1/devices/abc/").status_code == 404
    assert api.get("/api/v1/devices/999999/").status_code == 404
