import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from tests.support.certificates import key_pem, push_pair
from trellis.apns import keys
from trellis.apns.certificates import key_matches
from trellis.apns.models import PushCertificate, PushCertificateRequest
from trellis.apns.services import (
    create_push_certificate_request,
    install_push_certificate,
)
from trellis.pki.authority import (
    forget_cached_identities,
    get_authority,
    get_profile_signer,
    pki_dir,
)

pytestmark = pytest.mark.django_db

KEY_FILES = ("ca.key", "profile-signer.key")


def _every_secret() -> dict[str, bytes]:
    stored = {name: (pki_dir() / name).read_bytes() for name in KEY_FILES}
    for row in PushCertificate.objects.all():
        stored[f"push certificate {row.pk}"] = row.sealed_private_key.encode()
    for row in PushCertificateRequest.objects.all():
        stored[f"push CSR {row.pk}"] = row.sealed_private_key.encode()
    return stored


def _set_keys(settings, *keys: str) -> None:
    settings.TRELLIS_SECRET_KEYS = list(keys)
    forget_cached_identities()


@pytest.fixture
def secrets_in_place(own_data_dir, settings) -> str:
    """Every kind of secret stored under one configured key; answer the key."""
    key = Fernet.generate_key().decode()
    _set_keys(settings, key)
    get_authority()
    get_profile_signer()
    pair = push_pair()
    install_push_certificate(pair.certificate_pem, pair.key_pem)
    create_push_certificate_request("Trellis MDM push")
    return key


def _all_open() -> None:
    """Use every secret: each must decrypt to a key that works."""
    forget_cached_identities()
    assert get_authority().key.key_size == 2048
    assert get_profile_signer().key.key_size == 2048
    for row in PushCertificate.objects.all():
        assert key_matches(row.certificate_pem, keys.private_key_pem(row))
    for row in PushCertificateRequest.objects.all():
        assert "PRIVATE KEY" in keys.private_key_pem(row)


def test_files_and_rows_hold_no_private_key_in_clear(secrets_in_place) -> None:
    stored = _every_secret()

    assert len(stored) == 4
    for name, value in stored.items():
        assert b"PRIVATE KEY" not in value, name
        assert Fernet(secrets_in_place).decrypt(value.strip()), name
    for name in KEY_FILES:
        assert stat.S_IMODE((pki_dir() / name).stat().st_mode) == 0o600
    _all_open()


def test_rotation_seals_everything_under_the_first_key(
    secrets_in_place, settings, capsys
) -> None:
    old, new = secrets_in_place, Fernet.generate_key().decode()
    _set_keys(settings, new, old)
    _all_open()  # the old key still opens everything before rotation
    before = _every_secret()

    call_command("rotate_secret_keys")

    after = _every_secret()
    assert "Re-encrypted 2 key file(s) and 2 database key(s)" in capsys.readouterr().out
    for name, value in after.items():
        assert value != before[name], name
        assert Fernet(new).decrypt(value.strip()), name
    for name in KEY_FILES:
        assert stat.S_IMODE((pki_dir() / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in pki_dir().iterdir() if p.name.startswith(".")) == [
        ".lock"
    ], "no temporary file is left behind"
    _set_keys(settings, new)
    _all_open()


def test_rotation_without_the_old_key_stops_before_rewriting_anything(
    secrets_in_place, settings
) -> None:
    before = _every_secret()
    _set_keys(settings, Fernet.generate_key().decode())

    with pytest.raises(CommandError, match="cannot be decrypted with any key"):
        call_command("rotate_secret_keys")

    assert _every_secret() == before


def _write_plain(path: Path, key) -> None:
    path.write_text(key_pem(key))
    path.chmod(0o600)


def test_plain_keys_of_an_older_install_work_and_are_sealed_at_start(
    secrets_in_place, settings, capsys
) -> None:
    # An install from before encryption: every key in clear.
    authority = get_authority()
    signer = get_profile_signer()
    _write_plain(pki_dir() / "ca.key", authority.key)
    _write_plain(pki_dir() / "profile-signer.key", signer.key)
    pair = push_pair()
    PushCertificate.objects.all().delete()
    PushCertificate.objects.create(
        topic="com.apple.mgmt.External.x",
        not_after=pair.certificate.not_valid_after_utc,
        certificate_pem=pair.certificate_pem,
        sealed_private_key=pair.key_pem,
    )
    PushCertificateRequest.objects.update(sealed_private_key=key_pem(pair.key))
    _all_open()

    call_command("trellis_setup")

    assert "Encrypted 4 private key(s) stored in clear" in capsys.readouterr().out
    for name, value in _every_secret().items():
        assert b"PRIVATE KEY" not in value, name
    _all_open()
    assert get_authority().key.private_numbers() == authority.key.private_numbers()
