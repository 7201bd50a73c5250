import stat

import pytest
from cryptography.fernet import Fernet, InvalidToken

from tests.support.certificates import key_pem, rsa_key
from trellis.core import sealing
from trellis.core.errors import SecretsUnavailable
from trellis.core.sealing import (
    is_plain,
    keys_file,
    seal,
    seal_text,
    unseal,
    unseal_text,
)
from trellis.pki.authority import forget_cached_identities, get_authority
from trellis.settings import _fernet_keys

PEM = key_pem(rsa_key())


def test_a_sealed_key_holds_nothing_of_the_pem(own_data_dir) -> None:
    sealed = seal_text(PEM)

    assert "PRIVATE KEY" not in sealed
    assert PEM.splitlines()[1] not in sealed
    assert not is_plain(sealed.encode())
    assert unseal_text(sealed, "a test key") == PEM


def test_without_configured_keys_one_is_generated_privately_once(
    own_data_dir,
) -> None:
    assert not keys_file().exists()

    first = seal(b"secret")
    generated = keys_file().read_text().split()
    second = seal(b"secret")

    assert stat.S_IMODE(keys_file().stat().st_mode) == 0o600
    assert len(generated) == 1
    assert Fernet(generated[0]).decrypt(first) == b"secret"
    assert Fernet(generated[0]).decrypt(second) == b"secret"
    assert keys_file().read_text().split() == generated


def test_configured_keys_replace_the_generated_file(own_data_dir, settings) -> None:
    key = Fernet.generate_key().decode()
    settings.TRELLIS_SECRET_KEYS = [key]

    sealed = seal(b"secret")

    assert Fernet(key).decrypt(sealed) == b"secret"
    assert not keys_file().exists()


def test_the_first_key_seals_and_every_key_opens(own_data_dir, settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TRELLIS_SECRET_KEYS = [old]
    under_old = seal(b"secret")

    settings.TRELLIS_SECRET_KEYS = [new, old]
    under_new = seal(b"secret")

    assert unseal(under_old, "old") == unseal(under_new, "new") == b"secret"
    assert Fernet(new).decrypt(under_new) == b"secret"
    with pytest.raises(InvalidToken):
        Fernet(new).decrypt(under_old)


def test_a_wrong_key_says_what_cannot_be_opened_and_shows_no_key(
    own_data_dir, settings
) -> None:
    settings.TRELLIS_SECRET_KEYS = [Fernet.generate_key().decode()]
    sealed = seal(b"secret")
    wrong = Fernet.generate_key().decode()
    settings.TRELLIS_SECRET_KEYS = [wrong]

    with pytest.raises(SecretsUnavailable) as raised:
        unseal(sealed, "the CA key")

    message = str(raised.value)
    assert "the CA key cannot be decrypted" in message
    assert "TRELLIS_SECRET_KEYS" in message
    assert wrong not in message
    assert raised.value.status == 503


def test_plain_pem_of_older_installs_still_opens(own_data_dir) -> None:
    assert is_plain(PEM.encode())
    assert unseal_text(PEM, "an old key") == PEM


def test_settings_refuse_a_key_that_is_not_a_fernet_key(monkeypatch) -> None:
    good = Fernet.generate_key().decode()
    monkeypatch.setenv("TRELLIS_SECRET_KEYS", f"{good}, not-a-key")

    with pytest.raises(SystemExit) as raised:
        _fernet_keys("TRELLIS_SECRET_KEYS")

    assert "key 2 is not a Fernet key" in str(raised.value)
    assert "not-a-key" not in str(raised.value)
    monkeypatch.setenv("TRELLIS_SECRET_KEYS", f" {good} ,, ")
    assert _fernet_keys("TRELLIS_SECRET_KEYS") == [good]


def test_no_new_key_is_generated_over_keys_already_encrypted(
    own_data_dir, settings
) -> None:
    get_authority()  # the CA's key is sealed under a generated key
    kept = keys_file().read_text()
    # The key moves into configuration and its file is deleted, as advised...
    keys_file().unlink()
    sealing._ciphers.clear()
    forget_cached_identities()

    # ...then a command runs without TRELLIS_SECRET_KEYS: it must not make a
    # new key that could open nothing already sealed.
    with pytest.raises(SecretsUnavailable, match="already encrypted"):
        seal(b"anything")
    assert not keys_file().exists()

    settings.TRELLIS_SECRET_KEYS = [kept.strip()]
    assert unseal(seal(b"ok"), "a test") == b"ok"
