"""Replace the certificate that signs enrollment profiles."""

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.pki.authority import install_profile_signer


class Command(BaseCommand):
    help = (
        "Sign enrollment profiles with your own certificate: a PEM file with the "
        "certificate first and its chain after, and its PEM RSA private key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certificate", required=True, type=Path)
        parser.add_argument("--key", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            certificates = x509.load_pem_x509_certificates(
                options["certificate"].read_bytes()
            )
            key = serialization.load_pem_private_key(
                options["key"].read_bytes(), password=None
            )
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(f"Cannot read the certificate or key: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CommandError("The key must be an RSA private key.")
        try:
            install_profile_signer(certificates, key)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        subject = certificates[0].subject.rfc4514_string()
        self.stdout.write(f"Enrollment profiles are now signed by {subject}.")
