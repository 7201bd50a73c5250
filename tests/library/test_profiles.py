"""Reading uploaded configuration profiles: what is accepted, what is refused."""

import plistlib
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.support.profiles import (
    binary_plist,
    make_profile,
    payload,
    profile_dict,
    sign_profile,
)
from trellis.library.profiles import (
    MAX_DEPTH,
    MAX_PROFILE_BYTES,
    MAX_VALUES,
    ProfileError,
    ProfileTooLarge,
    read_profile,
)

FIXTURES = SHARED / "fixtures" / "profiles"

# What the refusal of each invalid fixture must say.
INVALID = {
    "contains-mdm-payload": ["payload 2", "com.apple.mdm", "belongs to Trellis"],
    "content-not-array": ["PayloadContent", "a string, not an array"],
    "duplicate-inner-identifier": [
        "PayloadIdentifier",
        "com.company.managedclient.preferences.errorreporting",
        "unique",
    ],
    "inner-bad-uuid": ["payload 1", "PayloadUUID", "'not-a-uuid'", "not a UUID"],
    "inner-missing-type": ["payload 1", "no PayloadType"],
    "missing-top-uuid": ["top level", "no PayloadUUID"],
    "not-a-plist": ["not a property list"],
    "plist-array-top": ["top level", "an array, not a dictionary"],
    "top-not-configuration": [
        "PayloadType",
        "'Configuration'",
        "'com.apple.applicationaccess'",
    ],
    "truncated": ["XML ends", "cut short"],
    "version-as-string": ["PayloadVersion", "the integer 1", "not '1'"],
}


def _names(folder: str) -> list[str]:
    found = sorted(path.name for path in (FIXTURES / folder).glob("*.mobileconfig"))
    # Without the shared fixtures the one placeholder is skipped by the fixture.
    return found or ["(shared fixtures absent)"]


def _read(shared_fixtures: Path, folder: str, name: str) -> bytes:
    return (shared_fixtures / "profiles" / folder / name).read_bytes()


@pytest.mark.parametrize("name", _names("valid"))
def test_every_valid_fixture_is_accepted_unchanged(
    shared_fixtures: Path, name: str
) -> None:
    data = _read(shared_fixtures, "valid", name)

    profile = read_profile(data)

    expected = plistlib.loads(data)
    assert profile.content == data
    assert profile.identifier == expected["PayloadIdentifier"]
    assert profile.uuid == expected["PayloadUUID"]
    assert profile.scope == expected.get("PayloadScope", "System")
    assert [p.type for p in profile.payloads] == [
        p["PayloadType"] for p in expected["PayloadContent"]
    ]
    assert not profile.signed


@pytest.mark.parametrize("name", _names("invalid"))
def test_every_invalid_fixture_is_refused_naming_its_fault(
    shared_fixtures: Path, name: str
) -> None:
    fault = name.removesuffix(".mobileconfig")
    assert fault in INVALID, f"say what the refusal of {name} must name"

    with pytest.raises(ProfileError) as refused:
        read_profile(_read(shared_fixtures, "invalid", name))

    for words in INVALID[fault]:
        assert words in refused.value.reason
    assert refused.value.status == 400


def test_binary_variant_is_read_like_its_xml_original(shared_fixtures: Path) -> None:
    binary = _read(shared_fixtures, "variants", "BlockAirDrop.binary.mobileconfig")
    xml = _read(shared_fixtures, "valid", "BlockAirDrop__BlockAirDrop.mobileconfig")

    from_binary, from_xml = read_profile(binary), read_profile(xml)

    assert from_binary.content == binary
    assert from_binary.payloads == from_xml.payloads
    assert from_binary.identifier == from_xml.identifier == "new.Block AirDrop"


def test_signed_variant_is_unwrapped_and_its_signer_recorded(
    shared_fixtures: Path,
) -> None:
    signed = _read(shared_fixtures, "variants", "BlockAirDrop.signed.mobileconfig")

    profile = read_profile(signed)

    assert profile.signed
    assert profile.signer == "O=Example Org,CN=Fixture Profile Signer"
    assert profile.identifier == "new.Block AirDrop"
    # Devices get the signed bytes, so they can show who signed the profile.
    assert profile.content == signed


def test_a_built_profile_is_described() -> None:
    data = make_profile(
        "com.example.airdrop",
        PayloadScope="User",
        PayloadRemovalDisallowed=True,
        PayloadDisplayName="No AirDrop",
        PayloadOrganization="Example Org",
        PayloadDescription="Blocks AirDrop",
    )

    profile = read_profile(data)

    assert profile.identifier == "com.example.airdrop"
    assert profile.display_name == "No AirDrop"
    assert profile.organization == "Example Org"
    assert profile.description == "Blocks AirDrop"
    assert profile.scope == "User"
    assert profile.removal_disallowed is True
    assert profile.payload_types == ["com.apple.applicationaccess"]
    assert profile.payloads[0].identifier == "com.example.airdrop.restrictions"


def test_payload_types_are_listed_once_in_order() -> None:
    data = make_profile(
        payloads=[
            payload("com.apple.dock"),
            payload("com.apple.applicationaccess"),
            payload("com.apple.dock"),
        ]
    )

    assert read_profile(data).payload_types == [
        "com.apple.dock",
        "com.apple.applicationaccess",
    ]


def test_a_signed_profile_from_another_signer() -> None:
    profile = read_profile(sign_profile(make_profile(), name="IT Department"))

    assert profile.signer == "CN=IT Department"


def test_a_tampered_signed_profile_is_refused() -> None:
    signed = bytearray(sign_profile(make_profile()))
    at = signed.index(b"allowAirDrop")
    signed[at : at + 5] = b"ALLOW"

    with pytest.raises(ProfileError, match="signature does not verify"):
        read_profile(bytes(signed))


def test_a_signed_wrapper_around_something_else_is_refused() -> None:
    with pytest.raises(ProfileError, match="not a property list"):
        read_profile(sign_profile(b"just words"))


def test_an_oversized_upload_is_refused_before_reading() -> None:
    with pytest.raises(ProfileTooLarge, match="limit") as refused:
        read_profile(b" " * (MAX_PROFILE_BYTES + 1))
    assert refused.value.status == 413


def test_the_largest_allowed_upload_is_read() -> None:
    data = make_profile()
    padded = data.replace(b"<plist", b" " * (MAX_PROFILE_BYTES - len(data)) + b"<plist")

    assert len(padded) == MAX_PROFILE_BYTES
    assert read_profile(padded).identifier == "com.example.restrictions"


def test_nesting_beyond_the_limit_is_refused() -> None:
    deep: object = "bottom"
    for _ in range(MAX_DEPTH):
        deep = [deep]

    with pytest.raises(ProfileError, match=f"deeper than {MAX_DEPTH}"):
        read_profile(make_profile(payloads=[payload(Settings=deep)]))


def test_a_container_holding_itself_is_refused() -> None:
    # One array whose only element is itself.
    with pytest.raises(ProfileError, match="nested deeper"):
        read_profile(binary_plist([b"\xa1\x00"]))


def test_one_array_referenced_billions_of_times_is_refused() -> None:
    # Each array holds the next one twice: 2**30 values from 100 bytes.
    levels = 30
    objects = [bytes([0xA2, level + 1, level + 1]) for level in range(levels)]
    data = binary_plist([*objects, b"\x10\x01"])

    with pytest.raises(ProfileError, match=f"more than {MAX_VALUES} values"):
        read_profile(data)


def test_a_key_that_is_not_a_string_is_refused() -> None:
    data = make_profile(binary=True, payloads=[payload(Q=True)])
    # The one-character string "Q" becomes the integer 5: same length.
    assert data.count(b"\x51Q") == 1
    data = data.replace(b"\x51Q", b"\x10\x05")

    with pytest.raises(ProfileError, match="key is an integer; keys must be strings"):
        read_profile(data)


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ({"PayloadType": None}, "PayloadType must be 'Configuration', not none"),
        ({"PayloadVersion": 2}, "PayloadVersion in the top level must be the integer"),
        ({"PayloadVersion": True}, "not True"),
        ({"PayloadVersion": None}, "the top level has no PayloadVersion"),
        ({"PayloadIdentifier": None}, "the top level has no PayloadIdentifier"),
        ({"PayloadIdentifier": " "}, "PayloadIdentifier in the top level is not"),
        ({"PayloadIdentifier": "a" * 256}, "longer than 255"),
        ({"PayloadUUID": "D7C2C12E"}, "'D7C2C12E' in the top level is not a UUID"),
        ({"PayloadUUID": 7}, "PayloadUUID 7 in the top level is not a UUID"),
        ({"PayloadContent": None}, "the top level has no PayloadContent"),
        ({"PayloadContent": []}, "PayloadContent is empty"),
        ({"PayloadContent": ["x"]}, "payload 1 of PayloadContent is a string"),
        ({"PayloadScope": "Device"}, "PayloadScope must be 'System' or 'User'"),
        ({"PayloadRemovalDisallowed": 1}, "must be a boolean, not an integer"),
        ({"PayloadDisplayName": 3}, "PayloadDisplayName in the top level must be"),
        ({"TargetDeviceType": False}, "must be an integer, not a boolean"),
        ({"RemovalDate": "tomorrow"}, "RemovalDate in the top level must be a date"),
        ({"IsEncrypted": True}, "encrypted"),
        ({"EncryptedPayloadContent": b"\x00"}, "encrypted"),
    ],
)
def test_top_level_faults_are_named(keys: dict, words: str) -> None:
    data = profile_dict()
    for key, value in keys.items():
        if value is None:
            del data[key]
        else:
            data[key] = value

    with pytest.raises(ProfileError) as refused:
        read_profile(plistlib.dumps(data))

    assert words in refused.value.reason


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ({"PayloadVersion": "1"}, "PayloadVersion in payload 1 (com.apple.dock)"),
        ({"PayloadIdentifier": None}, "payload 1 (com.apple.dock) has no Payload"),
        ({"PayloadUUID": None}, "payload 1 (com.apple.dock) has no PayloadUUID"),
        ({"PayloadType": ""}, "PayloadType in payload 1 of PayloadContent"),
        ({"PayloadType": "Configuration"}, "cannot be nested"),
        ({"PayloadEnabled": "yes"}, "PayloadEnabled in payload 1"),
    ],
)
def test_payload_faults_are_named(keys: dict, words: str) -> None:
    inner = payload("com.apple.dock")
    for key, value in keys.items():
        if value is None:
            del inner[key]
        else:
            inner[key] = value

    with pytest.raises(ProfileError) as refused:
        read_profile(make_profile(payloads=[inner]))

    assert words in refused.value.reason


def test_a_payload_uuid_used_twice_is_refused() -> None:
    first, second = payload(), payload()
    second["PayloadUUID"] = first["PayloadUUID"].lower()

    with pytest.raises(ProfileError, match="share the PayloadUUID"):
        read_profile(make_profile(payloads=[first, second]))


def test_uuids_written_with_other_grouping_are_accepted() -> None:
    # Seen in real profiles: uuidgen output with an extra group in front.
    odd = "81927370-ef798a72-978d-4ffc-81a3-88ba36f52585"

    assert read_profile(make_profile(PayloadUUID=odd)).uuid == odd


def test_optional_top_level_keys_of_the_right_type_are_accepted() -> None:
    data = make_profile(
        RemovalDate=datetime(2030, 1, 1),
        DurationUntilRemoval=3600.5,
        TargetDeviceType=5,
        HasRemovalPasscode=False,
        ConsentText={"default": "Agree?"},
        PayloadEnabled=True,
    )

    assert read_profile(data).identifier == "com.example.restrictions"


def test_a_profile_with_an_mdm_payload_anywhere_is_refused() -> None:
    data = make_profile(payloads=[payload(), payload("com.apple.mdm")])

    with pytest.raises(ProfileError, match="payload 2 of PayloadContent is a com"):
        read_profile(data)


def test_damaged_binary_and_xml_are_told_apart() -> None:
    binary = make_profile(binary=True)
    xml = make_profile().replace(b"</key>", b"</kee>", 1)

    with pytest.raises(ProfileError, match="binary property list is damaged"):
        read_profile(binary[:-20])
    with pytest.raises(ProfileError, match="XML error at line"):
        read_profile(xml)


def test_xml_without_its_optional_declaration_is_read() -> None:
    data = make_profile()
    bare = data[data.index(b"<!DOCTYPE") :]

    assert read_profile(bare).content == bare


def test_anything_before_the_xml_declaration_is_refused() -> None:
    with pytest.raises(ProfileError, match="XML error at line 2"):
        read_profile(b"\n" + make_profile())


@pytest.mark.parametrize(
    "data", [b"<html><body>Sign in</body></html>", b'<plist version="1.0"></plist>']
)
def test_xml_that_holds_no_plist_value_is_refused(data: bytes) -> None:
    with pytest.raises(ProfileError, match="XML holds no plist value"):
        read_profile(data)


def test_a_key_named_twice_is_refused() -> None:
    # Readers disagree on which value wins: one may see MDM, another Wi-Fi.
    xml = make_profile(payloads=[payload("com.apple.wifi.managed")]).replace(
        b"<key>PayloadType</key>\n\t\t\t<string>com.apple.wifi.managed</string>",
        b"<key>PayloadType</key>\n\t\t\t<string>com.apple.mdm</string>\n"
        b"\t\t\t<key>PayloadType</key>\n\t\t\t<string>com.apple.wifi.managed</string>",
    )
    assert xml.count(b"<key>PayloadType</key>") == 3
    with pytest.raises(ProfileError, match="names the key 'PayloadType' twice"):
        read_profile(xml)


@pytest.mark.parametrize(
    "payload_type", ["com.apple.MDM", "com.apple.mdm ", " COM.APPLE.MDM"]
)
def test_an_mdm_payload_is_refused_however_it_is_spelled(payload_type: str) -> None:
    with pytest.raises(ProfileError, match="MDM enrollment belongs to Trellis"):
        read_profile(make_profile(payloads=[payload(payload_type)]))


def test_a_string_holding_nul_is_refused() -> None:
    binary = make_profile(binary=True, PayloadDisplayName="Wi\x00Fi")
    with pytest.raises(ProfileError, match="NUL"):
        read_profile(binary)
