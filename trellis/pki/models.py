"""Certificates that Trellis's CA has issued."""

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import models


class IssuedCertificate(models.Model):
    """A device identity certificate issued over SCEP."""

    serial_number = models.CharField(max_length=64, unique=True)
    fingerprint = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the DER certificate, hex."
    )
    subject = models.CharField(max_length=500)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    der = models.BinaryField()
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial_number})"

    @classmethod
    def from_certificate(cls, certificate: x509.Certificate) -> "IssuedCertificate":
        """Build an unsaved row describing the certificate."""
        der = certificate.public_bytes(serialization.Encoding.DER)
        return cls(
            serial_number=format(certificate.serial_number, "x"),
            fingerprint=fingerprint(der),
            subject=certificate.subject.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            der=der,
        )


def fingerprint(der: bytes) -> str:
    """Answer the SHA-256 fingerprint of a DER certificate, lowercase hex."""
    return hashlib.sha256(der).hexdigest()
