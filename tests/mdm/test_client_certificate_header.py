"""Client certificates passed on by a TLS-terminating proxy, instead of signatures."""

import base64
import plistlib
from datetime import timedelta
from ipaddress import ip_network
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.test import Client
from django.utils import timezone

from tests.support.certificates import foreign_authority, pem, rsa_key
from trellis.mdm.models import Device
from trellis.pki.authority import get_authority
from trellis.pki.cms import sign_detached

pytestmark = pytest.mark.django_db

HEADER = "X-SSL-Client-Cert"
PROXY = "10.1.2.3"


@pytest.fixture(autouse=True)
def behind_a_proxy(settings) -> None:
    settings.TRELLIS_CLIENT_CERT_HEADER = HEADER
    settings.TRELLIS_TRUSTED_PROXIES = [ip_network("10.1.2.0/24"), ip_network("::1")]


def escaped(certificate: x509.Certificate) -> str:
    """The certificate as nginx's $ssl_client_escaped_cert passes it."""
    return quote(pem(certificate), safe="")


def _put(
    path: str,
    message: dict,
    certificate: str | None = None,
    signer=None,
    remote_addr: str = PROXY,
):
    body = plistlib.dumps(message)
    headers = {}
    if certificate is not None:
        headers[HEADER] = certificate
    if signer is not None:
        signature = sign_detached(body, signer.certificate, signer.key)
        headers["Mdm-Signature"] = base64.b64encode(signature).decode()
    return Client().put(
        path,
        data=body,
        content_type="application/x-apple-aspen-mdm",
        headers=headers,
        REMOTE_ADDR=remote_addr,
    )


def test_a_trusted_proxy_vouches_for_an_unsigned_check_in_and_connect(
    devices,
) -> None:
    device = devices.enrolled()
    message = device.token_update_message() | {"PushMagic": "FROM-THE-PROXY"}

    response = _put("/mdm/checkin", message, escaped(device.certificate))
    connect = _put(
        "/mdm/connect",
        {"UDID": device.persona.udid, "Status": "Idle"},
        escaped(device.certificate),
    )

    assert response.status_code == 200
    assert Device.objects.get(udid=device.persona.udid).push_magic == "FROM-THE-PROXY"
    assert connect.status_code == 200
    assert plistlib.loads(connect.content)["Command"]["RequestType"] == (
        "DeviceInformation"
    )


def test_authenticate_through_the_proxy_enrolls(devices) -> None:
    device = devices.new("ipad")
    device.obtain_identity()
    der = device.certificate.public_bytes(serialization.Encoding.DER)

    response = _put(
        "/mdm/checkin",
        device.authenticate_message(),
        base64.b64encode(der).decode(),
        remote_addr="::1",
    )

    assert response.status_code == 200
    row = Device.objects.get(udid=device.persona.udid)
    assert row.identity_certificate.serial_number == format(
        device.certificate.serial_number, "x"
    )


def test_the_header_from_an_untrusted_address_is_ignored(devices, caplog) -> None:
    device, other = devices.enrolled(), devices.enrolled()
    message = device.token_update_message()

    unsigned = _put(
        "/mdm/checkin", message, escaped(device.certificate), remote_addr="192.0.2.7"
    )
    # The header is not even compared: it names another device's certificate.
    signed = _put(
        "/mdm/checkin",
        message,
        escaped(other.certificate),
        signer=device,
        remote_addr="192.0.2.7",
    )

    assert unsigned.status_code == 403
    assert unsigned.content == b""
    assert signed.status_code == 200
    assert "header from an untrusted address ignored remote_addr=192.0.2.7" in (
        caplog.text
    )


def test_a_forged_header_with_a_foreign_certificate_is_refused(devices) -> None:
    device = devices.enrolled()
    look_alike = foreign_authority(name=get_authority().certificate.subject)
    forged = look_alike.issue(rsa_key())

    checkin = _put("/mdm/checkin", device.token_update_message(), escaped(forged))
    connect = _put(
        "/mdm/connect",
        {"UDID": device.persona.udid, "Status": "Idle"},
        escaped(forged),
    )

    assert checkin.status_code == 403
    assert connect.status_code == 403


def test_signature_and_header_must_name_the_same_certificate(devices) -> None:
    device, other = devices.enrolled(), devices.enrolled()
    message = device.token_update_message()

    mismatched = _put("/mdm/checkin", message, escaped(other.certificate), device)
    matching = _put("/mdm/checkin", message, escaped(device.certificate), device)

    assert mismatched.status_code == 403
    assert matching.status_code == 200


def test_another_devices_certificate_cannot_speak_for_it(devices) -> None:
    victim, attacker = devices.enrolled(), devices.enrolled()
    message = victim.token_update_message() | {"PushMagic": "STOLEN"}

    response = _put("/mdm/checkin", message, escaped(attacker.certificate))

    assert response.status_code == 403
    assert Device.objects.get(udid=victim.persona.udid).push_magic != "STOLEN"


def test_a_revoked_or_expired_certificate_is_refused_by_header(api, devices) -> None:
    revoked = devices.enrolled()
    row = Device.objects.get(udid=revoked.persona.udid)
    api.post(f"/api/v1/devices/{row.pk}/revoke-identity/")
    authority = get_authority()
    expired = (
        x509.CertificateBuilder()
        .subject_name(revoked.certificate.subject)
        .issuer_name(authority.certificate.subject)
        .public_key(revoked.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(timezone.now() - timedelta(days=10))
        .not_valid_after(timezone.now() - timedelta(days=1))
        .sign(authority.key, hashes.SHA256())
    )
    idle = {"UDID": revoked.persona.udid, "Status": "Idle"}

    assert _put("/mdm/connect", idle, escaped(revoked.certificate)).status_code == 403
    assert _put("/mdm/connect", idle, escaped(expired)).status_code == 403


@pytest.mark.parametrize(
    "value", ["garbage", "%ZZ", quote("-----BEGIN CERTIFICATE-----\nAAAA")]
)
def test_an_unreadable_header_is_refused(devices, value: str) -> None:
    device = devices.enrolled()
    idle = {"UDID": device.persona.udid, "Status": "Idle"}

    assert _put("/mdm/connect", idle, value).status_code == 403


def test_without_the_setting_the_header_means_nothing(devices, settings) -> None:
    settings.TRELLIS_CLIENT_CERT_HEADER = ""
    device = devices.enrolled()
    idle = {"UDID": device.persona.udid, "Status": "Idle"}

    assert _put("/mdm/connect", idle, escaped(device.certificate)).status_code == 403
    assert _put("/mdm/connect", idle, signer=device).status_code == 200
