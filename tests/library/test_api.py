import io

import pytest

from tests.support.profiles import make_profile, sign_profile
from trellis.audit.models import AuditEvent
from trellis.library.models import Profile
from trellis.library.profiles import MAX_PROFILE_BYTES

pytestmark = pytest.mark.django_db

PROFILES = "/api/v1/library/profiles/"
ASPEN = "application/x-apple-aspen-config"


def _multipart(data: bytes, **fields: str) -> dict:
    upload = io.BytesIO(data)
    upload.name = "restrictions.mobileconfig"
    return {"file": upload, **fields}


def _upload(api, data: bytes, **fields: str):
    return api.post(PROFILES, _multipart(data, **fields), format="multipart")


def test_upload_as_a_multipart_file(api) -> None:
    response = _upload(api, make_profile("com.example.dock"), name="Dock settings")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["identifier"] == "com.example.dock"
    assert body["name"] == "Dock settings"
    assert body["version"] == 1
    assert body["payload_types"] == ["com.apple.applicationaccess"]
    assert body["payloads"][0]["type"] == "com.apple.applicationaccess"
    assert body["blueprints"] == []
    assert "content" not in body
    assert AuditEvent.objects.get(action="library.profile_added").actor == "root"


def test_upload_as_the_raw_body(api) -> None:
    data = sign_profile(make_profile("com.example.signed"), name="IT")

    response = api.post(PROFILES, data, content_type=ASPEN)

    assert response.status_code == 201, response.content
    assert response.json()["signed"] is True
    assert response.json()["signer"] == "CN=IT"


def test_uploading_the_same_identifier_answers_the_new_version(api) -> None:
    first = _upload(api, make_profile("com.example.p")).json()

    again = api.post(
        PROFILES, make_profile("com.example.p", allowCamera=False), content_type=ASPEN
    )

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["version"] == 2


def test_an_invalid_upload_answers_400_with_the_reason(api) -> None:
    response = _upload(api, make_profile(PayloadType="Profile"))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "the top-level PayloadType must be 'Configuration', not 'Profile'"
    }
    assert not Profile.objects.exists()


def test_a_missing_file_is_a_400_saying_how_to_send_one(api) -> None:
    response = api.post(PROFILES, {"name": "x"}, format="multipart")

    assert response.status_code == 400
    assert "multipart file named 'file'" in response.json()["detail"]


def test_json_is_not_an_upload(api) -> None:
    response = api.post(PROFILES, {"file": "x"}, format="json")

    assert response.status_code == 415


def test_too_large_raw_body_answers_413(api) -> None:
    response = api.post(PROFILES, b" " * (MAX_PROFILE_BYTES + 1), content_type=ASPEN)

    assert response.status_code == 413
    assert str(MAX_PROFILE_BYTES) in response.json()["detail"]


def test_too_large_file_answers_413(api) -> None:
    response = _upload(api, b" " * (MAX_PROFILE_BYTES + 1))

    assert response.status_code == 413
    assert not Profile.objects.exists()


def test_a_request_declaring_too_many_bytes_is_refused_before_parsing(
    api, monkeypatch
) -> None:
    from rest_framework.parsers import MultiPartParser

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(MultiPartParser, "parse", must_not_parse)

    response = _upload(api, b" " * (MAX_PROFILE_BYTES + 100 * 1024))

    assert response.status_code == 413


def test_list_and_read_without_the_bytes(api) -> None:
    created = _upload(api, make_profile("com.example.dock")).json()
    _upload(api, make_profile("com.example.wifi"))

    listed = api.get(PROFILES).json()
    read = api.get(f"{PROFILES}{created['id']}/").json()

    assert listed["count"] == 2
    assert [p["identifier"] for p in listed["results"]] == [
        "com.example.dock",
        "com.example.wifi",
    ]
    assert read == created
    assert all("content" not in p for p in listed["results"])


def test_download_answers_the_exact_bytes(api) -> None:
    data = sign_profile(make_profile("com.example.dock"))
    created = api.post(PROFILES, data, content_type=ASPEN).json()

    response = api.get(f"{PROFILES}{created['id']}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == ASPEN
    assert response.content == data
    assert 'filename="com.example.dock.mobileconfig"' in response["Content-Disposition"]


def test_download_when_asked_for_a_profile(api) -> None:
    data = make_profile("new.Block AirDrop")
    created = api.post(PROFILES, data, content_type=ASPEN).json()

    response = api.get(f"{PROFILES}{created['id']}/download/", HTTP_ACCEPT=ASPEN)

    assert response.status_code == 200
    assert response.content == data
    assert (
        'filename="new.Block-AirDrop.mobileconfig"' in (response["Content-Disposition"])
    )


def test_put_replaces_the_item(api) -> None:
    created = _upload(api, make_profile("com.example.p")).json()
    url = f"{PROFILES}{created['id']}/"

    replaced = api.put(url, make_profile("com.example.p", a=1), content_type=ASPEN)
    other = api.put(url, _multipart(make_profile("com.example.q")), format="multipart")

    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    assert other.status_code == 400
    assert "'com.example.q', not 'com.example.p'" in other.json()["detail"]


def test_blueprint_library_items(api, blueprint) -> None:
    profile = _upload(api, make_profile("com.example.dock")).json()
    items = f"/api/v1/blueprints/{blueprint.pk}/library-items/"

    added = api.post(items, {"profile": profile["id"]}, format="json")
    again = api.post(items, {"profile": profile["id"]}, format="json")
    listed = api.get(items).json()
    read = api.get(f"{PROFILES}{profile['id']}/").json()

    assert added.status_code == 201, added.content
    assert added.json()["identifier"] == "com.example.dock"
    assert again.status_code == 200
    assert [i["profile"] for i in listed["results"]] == [profile["id"]]
    assert read["blueprints"] == [blueprint.pk]

    removed = api.delete(f"{items}{profile['id']}/")
    gone = api.delete(f"{items}{profile['id']}/")

    assert removed.status_code == 204
    assert gone.status_code == 404
    assert "does not carry" in gone.json()["detail"]
    assert api.get(items).json()["count"] == 0


def test_adding_an_unknown_profile_is_a_400(api, blueprint) -> None:
    response = api.post(
        f"/api/v1/blueprints/{blueprint.pk}/library-items/",
        {"profile": 999},
        format="json",
    )

    assert response.status_code == 400
    assert "profile" in response.json()


def test_delete_is_refused_while_a_blueprint_carries_the_profile(
    api, blueprint
) -> None:
    profile = _upload(api, make_profile()).json()
    items = f"/api/v1/blueprints/{blueprint.pk}/library-items/"
    api.post(items, {"profile": profile["id"]}, format="json")

    refused = api.delete(f"{PROFILES}{profile['id']}/")
    api.delete(f"{items}{profile['id']}/")
    deleted = api.delete(f"{PROFILES}{profile['id']}/")

    assert refused.status_code == 409
    assert "Staff Macs" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert not Profile.objects.exists()


def test_the_library_needs_an_admin(client) -> None:
    assert client.get(PROFILES).status_code == 401
    response = client.post(PROFILES, make_profile(), content_type=ASPEN)
    assert response.status_code == 401
    assert not Profile.objects.exists()


def test_head_on_library_items_reads_and_adds_nothing(api, blueprint) -> None:
    response = api.head(f"/api/v1/blueprints/{blueprint.pk}/library-items/")

    assert response.status_code == 200
    assert response.content == b""
    assert not blueprint.library_items.exists()
