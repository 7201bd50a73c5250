import pytest

from tests.support.profiles import make_profile, payload, sign_profile
from trellis.audit.models import AuditEvent
from trellis.blueprints.services import create_blueprint
from trellis.library.models import BlueprintItem, Profile
from trellis.library.profiles import ProfileError
from trellis.library.services import (
    NotInBlueprint,
    ProfileInUse,
    add_to_blueprint,
    delete_profile,
    profiles_required_by,
    remove_from_blueprint,
    replace_profile,
    required_profiles,
    upload_profile,
)
from trellis.mdm.models import Device

pytestmark = pytest.mark.django_db


def test_upload_stores_the_profile_as_uploaded() -> None:
    data = make_profile("com.example.dock", PayloadDisplayName="Dock")

    profile, created = upload_profile(data, actor="root")

    assert created
    stored = Profile.objects.get(pk=profile.pk)
    assert bytes(stored.content) == data
    assert stored.name == "Dock"
    assert stored.identifier == "com.example.dock"
    assert stored.version == 1
    assert stored.size == len(data)
    assert stored.payload_types == ["com.apple.applicationaccess"]
    assert stored.payloads[0]["identifier"] == "com.example.dock.restrictions"
    assert stored.uploaded_by == "root"
    event = AuditEvent.objects.get(action="library.profile_added")
    assert event.actor == "root"
    assert event.detail["sha256"] == stored.sha256


def test_a_signed_upload_records_its_signer() -> None:
    profile, _ = upload_profile(sign_profile(make_profile(), name="IT"))

    assert profile.signed
    assert profile.signer == "CN=IT"


def test_an_invalid_upload_stores_nothing() -> None:
    with pytest.raises(ProfileError):
        upload_profile(make_profile(PayloadVersion="1"))

    assert not Profile.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_same_identifier_again_is_a_new_version_of_the_same_item(
    blueprint,
) -> None:
    first, _ = upload_profile(make_profile("com.example.p", PayloadDisplayName="A"))
    add_to_blueprint(blueprint, first)
    newer = make_profile("com.example.p", PayloadDisplayName="A", allowCamera=False)

    second, created = upload_profile(newer, actor="root")

    assert not created
    assert second.pk == first.pk
    assert second.version == 2
    assert bytes(Profile.objects.get(pk=first.pk).content) == newer
    assert list(blueprint.profiles.all()) == [second]
    event = AuditEvent.objects.get(action="library.profile_replaced")
    assert event.detail["previous_sha256"] == first.sha256
    assert event.detail["version"] == 2


def test_the_same_bytes_again_change_nothing() -> None:
    data = make_profile()
    upload_profile(data)

    again, created = upload_profile(data)

    assert not created
    assert again.version == 1
    assert AuditEvent.objects.filter(action="library.profile_replaced").count() == 0


def test_a_replacement_keeps_a_name_given_before() -> None:
    first, _ = upload_profile(make_profile(), name="Restrictions for staff")

    replaced = replace_profile(first, make_profile(PayloadDisplayName="Other"))

    assert replaced.name == "Restrictions for staff"
    assert replaced.display_name == "Other"


def test_a_replacement_with_another_identifier_is_refused() -> None:
    profile, _ = upload_profile(make_profile("com.example.one"))

    with pytest.raises(
        ProfileError, match=r"'com\.example\.two', not 'com\.example\.one'"
    ):
        replace_profile(profile, make_profile("com.example.two"))

    assert Profile.objects.get(pk=profile.pk).version == 1


def test_adding_to_a_blueprint_twice_adds_once(blueprint) -> None:
    profile, _ = upload_profile(make_profile())

    _, created = add_to_blueprint(blueprint, profile, actor="root")
    _, again = add_to_blueprint(blueprint, profile, actor="root")

    assert created and not again
    assert BlueprintItem.objects.filter(blueprint=blueprint).count() == 1
    event = AuditEvent.objects.get(action="blueprint.profile_added")
    assert event.target_id == str(blueprint.pk)
    assert event.detail == {"profile": profile.pk, "identifier": profile.identifier}


def test_removing_from_a_blueprint(blueprint) -> None:
    profile, _ = upload_profile(make_profile())
    add_to_blueprint(blueprint, profile)

    remove_from_blueprint(blueprint, profile, actor="root")

    assert not blueprint.profiles.exists()
    assert AuditEvent.objects.filter(action="blueprint.profile_removed").count() == 1
    with pytest.raises(NotInBlueprint):
        remove_from_blueprint(blueprint, profile)


def test_a_profile_in_a_blueprint_cannot_be_deleted(blueprint) -> None:
    profile, _ = upload_profile(make_profile())
    add_to_blueprint(blueprint, profile)

    with pytest.raises(ProfileInUse, match="Staff Macs") as refused:
        delete_profile(profile)

    assert refused.value.status == 409
    assert Profile.objects.filter(pk=profile.pk).exists()


def test_deleting_a_profile_no_blueprint_carries(blueprint) -> None:
    profile, _ = upload_profile(make_profile())
    add_to_blueprint(blueprint, profile)
    remove_from_blueprint(blueprint, profile)

    delete_profile(profile, actor="root")

    assert not Profile.objects.exists()
    event = AuditEvent.objects.get(action="library.profile_deleted")
    assert event.detail["identifier"] == "com.example.restrictions"


def _device(udid: str, blueprint=None) -> Device:
    return Device.objects.create(udid=udid, blueprint=blueprint)


def test_the_profiles_a_device_must_carry_are_one_query(
    blueprint, django_assert_num_queries
) -> None:
    other = create_blueprint("Lab iPads")
    dock, _ = upload_profile(make_profile("com.example.dock"))
    wifi, _ = upload_profile(
        make_profile("com.example.wifi", payloads=[payload("com.apple.wifi.managed")])
    )
    upload_profile(make_profile("com.example.unused"))
    add_to_blueprint(blueprint, dock)
    add_to_blueprint(blueprint, wifi)
    add_to_blueprint(other, wifi)
    mac, ipad = _device("MAC", blueprint), _device("IPAD", other)
    loose = _device("LOOSE")

    with django_assert_num_queries(1):
        on_mac = list(profiles_required_by(mac).order_by("identifier"))

    assert on_mac == [dock, wifi]
    assert list(profiles_required_by(ipad)) == [wifi]
    assert not profiles_required_by(loose).exists()


def test_the_profiles_every_device_must_carry_are_one_query(
    blueprint, django_assert_num_queries
) -> None:
    other = create_blueprint("Lab iPads")
    dock, _ = upload_profile(make_profile("com.example.dock"))
    wifi, _ = upload_profile(make_profile("com.example.wifi"))
    add_to_blueprint(blueprint, dock)
    add_to_blueprint(blueprint, wifi)
    add_to_blueprint(other, wifi)
    macs = [_device(f"MAC{i}", blueprint) for i in range(3)]
    ipad = _device("IPAD", other)
    _device("LOOSE")

    with django_assert_num_queries(1):
        required = required_profiles(Device.objects.all())

    assert {
        device_id: [p.identifier for p in found]
        for device_id, found in required.items()
    } == {
        **{mac.pk: ["com.example.dock", "com.example.wifi"] for mac in macs},
        ipad.pk: ["com.example.wifi"],
    }
