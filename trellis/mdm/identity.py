"""Who sent this request: the Mdm-Signature header, checked against Trellis's CA.

Every check-in and connect body is signed by the device's identity key; the
header holds a detached CMS signature over the exact body bytes. This module
answers which certificate signed it, once the signature and the certificate
are both good. Binding that certificate to a device is the caller's step.
"""

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from trellis.core.errors import Refused
from trellis.pki.authority import get_authority
from trellis.pki.cms import CMSError, verify_signed_data

MAX_HEADER_BYTES = 16 * 1024
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

    certificate = signed.signer
    der = certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    authority = get_authority()
    cache_key = f"{authority.fingerprint}:{fingerprint}"
    not_after = trusted_certificates.get(cache_key)
    if not_after is None:
        if not authority.issued(certificate):
            raise Refused("the signing certificate was not issued by Trellis's CA")
        not_after = certificate.not_valid_after_utc
        trusted_certificates.add(cache_key, not_after)

    now = datetime.now(UTC)
    if not_after <= now or certificate.not_valid_before_utc > now:
        raise Refused("the signing certificate is expired or not yet valid")
    return RequestIdentity(fingerprint=fingerprint, certificate=certificate)
