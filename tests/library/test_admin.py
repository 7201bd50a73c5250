"""The library in the Django admin: upload, list, and profiles on a Blueprint's page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.support.profiles import make_profile, payload
from trellis.audit.models import AuditEvent
from trellis.library.models import BlueprintItem, Profile
from trellis.library.services import add_to_blueprint, upload_profile

pytestmark = pytest.mark.django_db

ADD = "/admin/library/profile/add/"
ASPEN = "application/x-apple-aspen-config"


@pytest.fixture
def signed_in(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def _file(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("profile.mobileconfig", data, ASPEN)


def test_uploading_a_profile_in_the_admin(signed_in: Client) -> None:
    data = make_profile("com.example.dock")

    response = signed_in.post(ADD, {"file": _file(data), "upload_name": "Dock"})

    assert response.status_code == 302, response.content[:2000]
    profile = Profile.objects.get()
    assert (profile.name, profile.identifier) == ("Dock", "com.example.dock")
    assert bytes(profile.content) == data
    assert AuditEvent.objects.get(action="library.profile_added").actor == "root"


def test_an_invalid_upload_shows_the_reason(signed_in: Client) -> None:
    data = make_profile(payloads=[payload("com.apple.mdm")])

    response = signed_in.post(ADD, {"file": _file(data)})

    assert response.status_code == 200
    assert b"com.apple.mdm payload" in response.content
    assert not Profile.objects.exists()


def test_uploading_a_new_version_on_the_change_page(signed_in: Client) -> None:
    profile, _ = upload_profile(make_profile("com.example.p"))
    page = f"/admin/library/profile/{profile.pk}/change/"

    other = signed_in.post(page, {"file": _file(make_profile("com.example.q"))})
    newer = signed_in.post(page, {"file": _file(make_profile("com.example.p", a=1))})

    assert other.status_code == 200
    assert b"not &#x27;com.example.p&#x27;" in other.content
    assert newer.status_code == 302
    assert Profile.objects.get(pk=profile.pk).version == 2
    name_only = signed_in.post(page, {"upload_name": "Renamed"})
    assert b"A new name comes with a new version." in name_only.content


def test_the_list_shows_payload_types_and_blueprints(
    signed_in: Client, blueprint
) -> None:
    profile, _ = upload_profile(
        make_profile(payloads=[payload("com.apple.dock"), payload("com.apple.wifi")])
    )
    add_to_blueprint(blueprint, profile)

    page = signed_in.get("/admin/library/profile/")

    assert page.status_code == 200
    assert b"com.apple.dock, com.apple.wifi" in page.content
    assert b"Staff Macs" in page.content
    detail = signed_in.get(f"/admin/library/profile/{profile.pk}/change/")
    assert detail.status_code == 200


def test_a_profile_in_a_blueprint_cannot_be_deleted_in_the_admin(
    signed_in: Client, blueprint
) -> None:
    profile, _ = upload_profile(make_profile())
    add_to_blueprint(blueprint, profile)

    response = signed_in.post(
        f"/admin/library/profile/{profile.pk}/delete/", {"post": "yes"}
    )

    assert Profile.objects.filter(pk=profile.pk).exists()
    assert b"protected" in response.content.lower()


def _blueprint_form(blueprint, items: list[dict]) -> dict:
    form = {
        "name": blueprint.name,
        "enrollment_enabled": "on",
        "enrollment_codes-TOTAL_FORMS": "0",
        "enrollment_codes-INITIAL_FORMS": "0",
        "library_items-TOTAL_FORMS": str(len(items)),
        "library_items-INITIAL_FORMS": str(sum(1 for i in items if "id" in i)),
    }
    for index, item in enumerate(items):
        for key, value in item.items():
            form[f"library_items-{index}-{key}"] = value
    return form


def test_profiles_are_added_and_removed_on_the_blueprint_page(
    signed_in: Client, blueprint
) -> None:
    profile, _ = upload_profile(make_profile())
    page = f"/admin/blueprints/blueprint/{blueprint.pk}/change/"

    shown = signed_in.get(page)
    added = signed_in.post(page, _blueprint_form(blueprint, [{"profile": profile.pk}]))

    assert shown.status_code == 200
    assert b"library profiles" in shown.content.lower()
    assert added.status_code == 302, added.content[:3000]
    item = BlueprintItem.objects.get()
    assert (item.blueprint, item.profile, item.added_by) == (blueprint, profile, "root")
    assert AuditEvent.objects.filter(action="blueprint.profile_added").count() == 1

    removed = signed_in.post(
        page,
        _blueprint_form(
            blueprint,
            [{"id": str(item.pk), "blueprint": str(blueprint.pk), "DELETE": "on"}],
        ),
    )

    assert removed.status_code == 302, removed.content[:3000]
    assert not BlueprintItem.objects.exists()
    assert AuditEvent.objects.filter(action="blueprint.profile_removed").count() == 1
