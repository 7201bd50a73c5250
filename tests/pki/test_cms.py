import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.certificates import foreign_authority, rsa_key
from tests.support.openssl import cms_verify
from trellis.pki import cms
from trellis.pki.authority import get_authority, get_profile_signer


def _openssl(
    *args: str, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["openssl", *args], input=input, capture_output=True, check=False
    )


@pytest.fixture
def signer():
    return get_profile_signer()


def test_attached_signature_verifies_with_openssl_and_keeps_exact_content(
    signer, tmp_path: Path
) -> None:
    content = b"<?xml version='1.0'?>\n<plist><dict/></plist>\r\n\x00binary"
    signed = cms.sign_attached(content, signer.certificate, signer.key)
    (tmp_path / "signed.der").write_bytes(signed)
    (tmp_path / "ca.pem").write_bytes(
        get_authority().certificate.public_bytes(serialization.Encoding.PEM)
    )

    result = cms_verify(
        tmp_path / "signed.der", tmp_path / "ca.pem", tmp_path / "content"
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "content").read_bytes() == content


def test_detached_signature_round_trip_names_the_signer() -> None:
    key = rsa_key()
    certificate = get_authority().issue_device_certificate(
        key.public_key(), get_authority().certificate.subject, 1
    )
    body = b"some check-in body"

    verified = cms.verify_signed_data(cms.sign_detached(body, certificate, key), body)

    assert verified.signer == certificate
    assert verified.digest_algorithm == "sha256"


def test_detached_signature_over_other_bytes_is_refused() -> None:
    key = rsa_key()
    certificate = foreign_authority().issue(key)
    signature = cms.sign_detached(b"original", certificate, key)

    with pytest.raises(cms.SignatureError, match="digest"):
        cms.verify_signed_data(signature, b"tampered")


def test_signature_by_another_key_is_refused() -> None:
    key, impostor = rsa_key(), rsa_key()
    certificate = foreign_authority().issue(key)
    # Signed by another key, while naming the first key's certificate.
    forged = cms.sign_detached(b"body", certificate, impostor)

    with pytest.raises(cms.SignatureError):
        cms.verify_signed_data(forged, b"body")


def test_openssl_streamed_ber_signature_is_read(tmp_path: Path) -> None:
    key = rsa_key()
    certificate = foreign_authority().issue(key)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "cert.pem").write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
    )
    content = b"x" * 5000
    (tmp_path / "content").write_bytes(content)

    # -stream makes openssl write BER with indefinite lengths and chunked content.
    result = _openssl(
        "cms",
        "-sign",
        "-binary",
        "-stream",
        "-nodetach",
        "-md",
        "sha1",
        "-outform",
        "DER",
        "-in",
        str(tmp_path / "content"),
        "-signer",
        str(tmp_path / "cert.pem"),
        "-inkey",
        str(tmp_path / "key.pem"),
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"\x80" in result.stdout[:8]  # indefinite length at the top

    verified = cms.verify_signed_data(result.stdout)

    assert verified.content == content
    assert verified.digest_algorithm == "sha1"


@pytest.mark.parametrize(
    "garbage", [b"", b"\x30", b"\x30\x80", b"not der at all", b"\x30\x03\x02\x01\x01"]
)
def test_garbage_is_a_cms_error_not_a_crash(garbage: bytes) -> None:
    with pytest.raises(cms.CMSError):
        cms.verify_signed_data(garbage)


def _signature_with_patched_certificate(old: bytes, new: bytes) -> bytes:
    """A valid detached signature whose embedded certificate has `old` replaced."""
    key = rsa_key()
    certificate = foreign_authority().issue(key)
    der = certificate.public_bytes(serialization.Encoding.DER)
    signature = cms.sign_detached(b"body", certificate, key)
    start = signature.index(der)
    patched = der.replace(old, new, 1)
    assert patched != der
    return signature[:start] + patched + signature[start + len(der) :]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # rsaEncryption in the subject public key becomes an unknown algorithm.
        (
            bytes.fromhex("06092a864886f70d010101"),
            bytes.fromhex("06092a864886f70d0101ff"),
        ),
        # X.509 version 3 becomes the impossible version 49.
        (bytes.fromhex("a003020102"), bytes.fromhex("a003020130")),
    ],
    ids=["unknown-key-algorithm", "impossible-version"],
)
def test_a_broken_embedded_certificate_is_a_cms_error(old: bytes, new: bytes) -> None:
    with pytest.raises(cms.CMSError):
        cms.verify_signed_data(_signature_with_patched_certificate(old, new), b"body")
