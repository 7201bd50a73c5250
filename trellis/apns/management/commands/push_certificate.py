"""The push certificate from the command line: make a CSR, install, show."""

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.apns.certificates import PushCertificateError, read_pkcs12
from trellis.apns.services import (
    TopicChangeRefused,
    create_push_certificate_request,
    current_push_certificate,
    expiry_warning,
    install_push_certificate,
)
from trellis.core.errors import SecretsUnavailable


class Command(BaseCommand):
    help = (
        "Manage the Apple push certificate: `csr` writes a new key's CSR (the key "
        "stays with Trellis), `install` takes the signed certificate (PEM with or "
        "without its key, or a .p12), `show` prints the one in use."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        csr = actions.add_parser(
            "csr", help="Print a CSR for Apple's push certificate portal."
        )
        csr.add_argument("--common-name", default="Trellis MDM push")
        csr.add_argument("--email", default="")
        install = actions.add_parser(
            "install", help="Install a signed push certificate."
        )
        install.add_argument("--certificate", type=Path, help="PEM certificate file.")
        install.add_argument(
            "--key", type=Path, help="PEM key (omit if Trellis made the CSR)."
        )
        install.add_argument(
            "--pkcs12", type=Path, help=".p12/.pfx file instead of PEM."
        )
        install.add_argument(
            "--passphrase-env",
            default="TRELLIS_P12_PASSPHRASE",
            help="Environment variable holding the .p12 passphrase.",
        )
        install.add_argument(
            "--confirm-topic-change",
            action="store_true",
            help="Replace the topic even though devices use the current one.",
        )
        actions.add_parser("show", help="Show the push certificate in use.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._act(options)
        except SecretsUnavailable as exc:
            raise CommandError(str(exc)) from exc

    def _act(self, options: dict[str, Any]) -> None:
        action = options["action"]
        if action == "csr":
            request = create_push_certificate_request(
                options["common_name"], options["email"]
            )
            self.stdout.write(request.csr_pem, ending="")
        elif action == "install":
            self._install(options)
        else:
            self._show()

    def _install(self, options: dict[str, Any]) -> None:
        key_pem: str | None
        try:
            if options["pkcs12"]:
                passphrase = os.environ.get(options["passphrase_env"], "")
                certificate_pem, key_pem = read_pkcs12(
                    options["pkcs12"].read_bytes(), passphrase
                )
            elif options["certificate"]:
                certificate_pem = options["certificate"].read_text()
                key_pem = options["key"].read_text() if options["key"] else None
            else:
                raise CommandError("Give --certificate (and --key) or --pkcs12.")
            installed = install_push_certificate(
                certificate_pem,
                key_pem,
                actor="command line",
                confirm_topic_change=options["confirm_topic_change"],
            )
        except (OSError, PushCertificateError, TopicChangeRefused) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Installed the push certificate for {installed.topic}.")
        self._show()

    def _show(self) -> None:
        current = current_push_certificate()
        if current is None:
            raise CommandError("No push certificate is installed.")
        self.stdout.write(f"Topic:   {current.topic}")
        self.stdout.write(
            f"Expires: {current.not_after:%Y-%m-%d} ({current.days_left} days)"
        )
        warning = expiry_warning(current)
        if warning:
            self.stdout.write(self.style.WARNING(warning.message))
