import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.certificates import foreign_authority
from trellis.pki import cms, envelope
from trellis.pki.authority import get_authority


def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], capture_output=True, check=False)


@pytest.mark.parametrize("cipher", sorted(envelope.CIPHERS))
def test_enveloped_round_trip_for_every_accepted_cipher(cipher: str) -> None:
    authority = get_authority()
    content = b"a certificate request" * 7

    enveloped = envelope.encrypt_enveloped(content, authority.certificate, cipher)
    plain, used = envelope.decrypt_enveloped(
        enveloped, authority.certificate, authority.key
    )

    assert (plain, used) == (content, cipher)


@pytest.mark.parametrize(
    ("openssl_cipher", "expected"),
    [
        ("-aes-128-cbc", "aes128_cbc"),
        ("-aes-256-cbc", "aes256_cbc"),
        ("-des3", "tripledes_3key"),
    ],
)
def test_openssl_ber_enveloped_data_decrypts(
    tmp_path: Path, openssl_cipher: str, expected: str
) -> None:
    authority = get_authority()
    (tmp_path / "ca.pem").write_bytes(
        authority.certificate.public_bytes(serialization.Encoding.PEM)
    )
    content = b"inner request " * 300
    (tmp_path / "content").write_bytes(content)
    result = _openssl(
        "cms",
        "-encrypt",
        "-binary",
        "-stream",
        "-outform",
        "DER",
        openssl_cipher,
        "-in",
        str(tmp_path / "content"),
        str(tmp_path / "ca.pem"),
    )
    assert result.returncode == 0, result.stderr.decode()

    plain, used = envelope.decrypt_enveloped(
        result.stdout, authority.certificate, authority.key
    )

    assert (plain, used) == (content, expected)


def test_enveloped_data_for_someone_else_is_refused() -> None:
    authority = get_authority()
    stranger = foreign_authority()
    enveloped = envelope.encrypt_enveloped(b"secret", stranger.certificate)

    with pytest.raises(cms.CMSError, match="not encrypted for this certificate"):
        envelope.decrypt_enveloped(enveloped, authority.certificate, authority.key)
