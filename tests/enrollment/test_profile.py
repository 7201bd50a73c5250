import plistlib
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.test import Client

from tests.support.certificates import DEFAULT_TOPIC
from tests.support.openssl import cms_verify
from trellis.enrollment.challenges import challenge_digest
from trellis.enrollment.models import EnrollmentSession
from trellis.pki.authority import get_authority, get_profile_signer
from trellis.pki.cms import verify_signed_data

pytestmark = pytest.mark.django_db

UUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


@pytest.fixture
def signed_profile(client: Client, open_portal, blueprint) -> bytes:
    return client.post("/enroll", {"code": blueprint.current_code.code}).content


def _payloads(signed: bytes) -> tuple[dict, dict[str, dict]]:
    profile = plistlib.loads(verify_signed_data(signed).content)
    return profile, {p["PayloadType"]: p for p in profile["PayloadContent"]}


def test_openssl_verifies_the_profile_against_the_ca(
    signed_profile: bytes, tmp_path: Path
) -> None:
    (tmp_path / "profile.der").write_bytes(signed_profile)
    (tmp_path / "ca.pem").write_bytes(
        get_authority().certificate.public_bytes(serialization.Encoding.PEM)
    )
    result = cms_verify(
        tmp_path / "profile.der", tmp_path / "ca.pem", tmp_path / "content.plist"
    )
    assert result.returncode == 0, result.stderr
    content = (tmp_path / "content.plist").read_bytes()
    assert content == verify_signed_data(signed_profile).content
    assert plistlib.loads(content)["PayloadType"] == "Configuration"


def test_signature_is_sha256_with_the_signer_certificate_included(
    signed_profile: bytes,
) -> None:
    verified = verify_signed_data(signed_profile)
    assert verified.digest_algorithm == "sha256"
    # The signer is found among the certificates the profile carries.
    assert verified.signer == get_profile_signer().certificate
    assert get_authority().issued(verified.signer)


def test_scep_payload(signed_profile: bytes) -> None:
    _, payloads = _payloads(signed_profile)
    scep = payloads["com.apple.security.scep"]["PayloadContent"]

    assert scep["URL"] == f"{settings.TRELLIS_BASE_URL}/scep"
    assert re.fullmatch(r"[A-Za-z0-9]{20,}", scep["Challenge"])
    assert (scep["Key Type"], scep["Keysize"], scep["Key Usage"]) == ("RSA", 2048, 5)
    for rdn in scep["Subject"]:
        for key, value in rdn:
            assert key in {"C", "ST", "L", "O", "OU", "CN"} and isinstance(value, str)


def test_the_challenge_belongs_to_the_session_and_is_not_stored(
    signed_profile: bytes,
) -> None:
    _, payloads = _payloads(signed_profile)
    challenge = payloads["com.apple.security.scep"]["PayloadContent"]["Challenge"]
    session = EnrollmentSession.objects.get()
    assert session.challenge_digest == challenge_digest(challenge)
    stored = [str(v) for v in EnrollmentSession.objects.values_list().get()]
    assert challenge not in stored


def test_mdm_payload(signed_profile: bytes) -> None:
    _, payloads = _payloads(signed_profile)
    mdm, scep = payloads["com.apple.mdm"], payloads["com.apple.security.scep"]

    assert mdm["IdentityCertificateUUID"] == scep["PayloadUUID"]
    assert mdm["Topic"] == DEFAULT_TOPIC
    assert mdm["ServerURL"].startswith(settings.TRELLIS_BASE_URL + "/")
    assert mdm["CheckInURL"].startswith(settings.TRELLIS_BASE_URL + "/")
    assert mdm["ServerURL"] != mdm["CheckInURL"]
    assert mdm["SignMessage"] is True
    assert mdm["CheckOutWhenRemoved"] is True
    assert mdm["AccessRights"] == 8191


def test_the_ca_certificate_is_carried(signed_profile: bytes) -> None:
    _, payloads = _payloads(signed_profile)
    assert (
        payloads["com.apple.security.root"]["PayloadContent"]
        == get_authority().certificate_der
    )


def test_every_payload_is_well_formed_and_identifiers_are_unique(
    signed_profile: bytes,
) -> None:
    profile, _ = _payloads(signed_profile)
    everything = [profile, *profile["PayloadContent"]]

    for payload in everything:
        assert isinstance(payload["PayloadType"], str)
        assert payload["PayloadVersion"] == 1
        assert UUID.match(payload["PayloadUUID"])
    assert len({p["PayloadIdentifier"] for p in everything}) == len(everything)
    assert len({p["PayloadUUID"] for p in everything}) == len(everything)


def test_two_downloads_have_different_challenges_and_uuids(
    client: Client, open_portal, blueprint
) -> None:
    first = _payloads(
        client.post("/enroll", {"code": blueprint.current_code.code}).content
    )[0]
    second = _payloads(
        client.post("/enroll", {"code": blueprint.current_code.code}).content
    )[0]

    def challenge(profile: dict) -> str:
        scep = next(
            p
            for p in profile["PayloadContent"]
            if p["PayloadType"] == "com.apple.security.scep"
        )
        return scep["PayloadContent"]["Challenge"]

    assert challenge(first) != challenge(second)
    assert first["PayloadUUID"] != second["PayloadUUID"]
    assert first["PayloadIdentifier"] == second["PayloadIdentifier"]
