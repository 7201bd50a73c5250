import stat

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.support.certificates import foreign_authority, rsa_key
from trellis.pki.authority import get_authority, pki_dir


def test_ca_is_created_with_a_private_key_only_the_service_can_read() -> None:
    authority = get_authority()

    mode = stat.S_IMODE((pki_dir() / "ca.key").stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(pki_dir().stat().st_mode) == 0o700
    constraints = authority.certificate.extensions.get_extension_for_class(
        x509.BasicConstraints
    )
    assert constraints.value.ca
    usage = authority.certificate.extensions.get_extension_for_class(
        x509.KeyUsage
    ).value
    assert usage.key_cert_sign and usage.digital_signature and usage.key_encipherment


def test_ca_is_loaded_not_recreated() -> None:
    assert get_authority().certificate == get_authority().certificate


def test_device_certificates_are_for_client_authentication() -> None:
    authority = get_authority()
    certificate = authority.issue_device_certificate(
        rsa_key().public_key(), x509.Name([]), days=30
    )

    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert authority.issued(certificate)
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 30 <= lifetime.days <= 31


def test_certificates_of_a_look_alike_ca_are_not_ours() -> None:
    impostor = foreign_authority(name=get_authority().certificate.subject)
    forged = impostor.issue(rsa_key())

    assert forged.issuer == get_authority().certificate.subject
    assert not get_authority().issued(forged)
