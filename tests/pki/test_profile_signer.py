from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command
from django.test import Client

from tests.support.certificates import foreign_authority, key_pem, pem, rsa_key
from trellis.pki.authority import forget_cached_identities, get_profile_signer, pki_dir
from trellis.pki.cms import verify_signed_data


@pytest.fixture
def restore_signer():
    """Put the built-in signer back after the test."""
    get_profile_signer()  # make sure the built-in one exists
    directory = pki_dir()
    saved = {
        name: (directory / name).read_bytes()
        for name in ("profile-signer.crt", "profile-signer.key")
    }
    yield
    for name, data in saved.items():
        (directory / name).write_bytes(data)
    forget_cached_identities()


def _own_signer(tmp_path: Path) -> tuple[Path, Path, x509.Certificate]:
    issuer = foreign_authority()
    key = rsa_key()
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdm.example.org")])
        )
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .sign(issuer.key, hashes.SHA256())
    )
    (tmp_path / "signer.pem").write_text(pem(certificate) + pem(issuer.certificate))
    (tmp_path / "signer.key").write_text(key_pem(key))
    return tmp_path / "signer.pem", tmp_path / "signer.key", certificate


@pytest.mark.django_db
def test_an_admin_supplied_signer_signs_profiles_with_its_chain(
    tmp_path: Path, restore_signer, client: Client, open_portal, blueprint
) -> None:
    certificate_path, key_path, certificate = _own_signer(tmp_path)

    call_command("set_profile_signer", certificate=certificate_path, key=key_path)

    assert get_profile_signer().certificate == certificate
    assert len(get_profile_signer().chain) == 1
    signed = client.post("/enroll", {"code": blueprint.current_code.code}).content
    assert verify_signed_data(signed).signer == certificate
    key_mode = (pki_dir() / "profile-signer.key").stat().st_mode & 0o777
    assert key_mode == 0o600


def test_a_key_that_does_not_match_is_refused(tmp_path: Path, restore_signer) -> None:
    certificate_path, _, _ = _own_signer(tmp_path)
    other_key = tmp_path / "other.key"
    other_key.write_text(key_pem(rsa_key()))
    before = get_profile_signer().certificate

    with pytest.raises(CommandError, match="does not belong"):
        call_command("set_profile_signer", certificate=certificate_path, key=other_key)
    assert get_profile_signer().certificate == before
