"""Who sent this request: a certificate Trellis's CA issued, proven one of two ways.

Devices sign every check-in and connect body with their identity key: the
Mdm-Signature header holds a detached CMS signature over the exact body
bytes. Where a TLS-terminating proxy checks client certificates, it may
pass the device's certificate on in a header instead
(TRELLIS_CLIENT_CERT_HEADER), believed only from TRELLIS_TRUSTED_PROXIES.
Either way the certificate then goes through the same checks: issued by
Trellis's CA, within its validity. Binding it to a device, and refusing it
once revoked, is the caller's step.
"""

import base64
import binascii
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from trellis.core.addresses import is_trusted_proxy
from trellis.core.errors import Refused
from trellis.pki.authority import get_authority
from trellis.pki.cms import CMSError, verify_signed_data

MAX_HEADER_BYTES = 16 * 1024
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"

security_logger = logging.getLogger("trellis.security")
_TRUSTED_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class RequestIdentity:
    """The certificate that signed a request, already checked against the CA."""

    fingerprint: str
    certificate: x509.Certificate


class _TrustedCertificates:
    """Fingerprints of certificates already proven to come from the CA.

    Checking the CA's signature on a certificate costs an RSA verification;
    a device signs every request with the same certificate, so the answer is
    kept (bounded, least recently used first out).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, datetime] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, fingerprint: str) -> datetime | None:
        with self.lock:
            not_after = self.entries.get(fingerprint)
            if not_after is not None:
                self.entries.move_to_end(fingerprint)
            return not_after

    def add(self, fingerprint: str, not_after: datetime) -> None:
        with self.lock:
            self.entries[fingerprint] = not_after
            self.entries.move_to_end(fingerprint)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


trusted_certificates = _TrustedCertificates(_TRUSTED_CACHE_SIZE)


def identify_request(
    body: bytes, headers: Mapping[str, str], remote_addr: str
) -> RequestIdentity:
    """Answer the certificate that vouches for the body, by signature or by proxy.

    When a trusted proxy passes a client certificate and the device signed
    the body too, both must name the same certificate: two identities on
    one request mean a misrouted or forged request, never a choice.
    """
    forwarded = forwarded_certificate(headers, remote_addr)
    signature_header = headers.get("Mdm-Signature")
    if forwarded is None:
        return verify_request_identity(signature_header, body)
    proxied = verify_client_certificate(forwarded)
    if signature_header:
        signed = verify_request_identity(signature_header, body)
        if signed.fingerprint != proxied.fingerprint:
            raise Refused(
                "Mdm-Signature and the proxy's client certificate name different "
                "certificates"
            )
    return proxied


def forwarded_certificate(headers: Mapping[str, str], remote_addr: str) -> str | None:
    """The client certificate header's value, if configured, sent and believable.

    A header from an address that is not a trusted proxy is ignored, so the
    request must carry its Mdm-Signature like any other.
    """
    name = settings.TRELLIS_CLIENT_CERT_HEADER
    if not name:
        return None
    value = (headers.get(name) or "").strip()
    if not value:
        return None  # the proxy saw no client certificate
    if not is_trusted_proxy(remote_addr):
        security_logger.warning(
            "client certificate header from an untrusted address ignored "
            "remote_addr=%s header=%s",
            remote_addr,
            name,
        )
        return None
    return value


def verify_request_identity(
    signature_header: str | None, body: bytes
) -> RequestIdentity:
    """Answer the CA-issued, unexpired certificate whose key signed the body."""
    if not signature_header:
        raise Refused("no Mdm-Signature header")
    if len(signature_header) > MAX_HEADER_BYTES:
        raise Refused("Mdm-Signature header too large")
    try:
        signature = base64.b64decode("".join(signature_header.split()), validate=True)
        signed = verify_signed_data(signature, detached_content=body)
    except (binascii.Error, ValueError) as exc:
        reason = (
            str(exc) if isinstance(exc, CMSError) else "Mdm-Signature is not base64"
        )
        raise Refused(f"bad Mdm-Signature: {reason}") from exc
    return checked_identity(signed.signer)


def verify_client_certificate(header_value: str) -> RequestIdentity:
    """Answer the CA-issued, unexpired certificate a trusted proxy passed on."""
    return checked_identity(read_client_certificate(header_value))


def read_client_certificate(header_value: str) -> x509.Certificate:
    """Read a proxy's client certificate header: URL-escaped PEM or base64 DER.

    nginx's ``$ssl_client_escaped_cert`` (and most proxies) pass URL-escaped
    PEM; a few pass the DER certificate in base64.
    """
    if len(header_value) > MAX_HEADER_BYTES:
        raise Refused("client certificate header too large")
    text = unquote(header_value).strip()
    try:
        if PEM_CERTIFICATE in text:
            return x509.load_pem_x509_certificate(text.encode())
        der = base64.b64decode("".join(text.split()), validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as exc:
        raise Refused("unreadable client certificate header") from exc


def checked_identity(certificate: x509.Certificate) -> RequestIdentity:
    """Answer the certificate as an identity: issued by Trellis's CA, valid now."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    authority = get_authority()
    cache_key = f"{authority.fingerprint}:{fingerprint}"
    not_after = trusted_certificates.get(cache_key)
    if not_after is None:
        if not authority.issued(certificate):
            raise Refused("the certificate was not issued by Trellis's CA")
        not_after = certificate.not_valid_after_utc
        trusted_certificates.add(cache_key, not_after)

    now = datetime.now(UTC)
    if not_after <= now or certificate.not_valid_before_utc > now:
        raise Refused("the certificate is expired or not yet valid")
    return RequestIdentity(fingerprint=fingerprint, certificate=certificate)
