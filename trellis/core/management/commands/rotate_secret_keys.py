"""Encrypt every secret at rest again under the first key of TRELLIS_SECRET_KEYS."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trellis.core.errors import SecretsUnavailable
from trellis.core.sealing import key_source
from trellis.core.secrets_at_rest import reseal_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt the CA, profile-signing and push keys under the first key of "
        "TRELLIS_SECRET_KEYS. Put the new key first, keep the old ones after it, "
        "run this, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = reseal_secrets(rotate=True)
        except SecretsUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Re-encrypted {report.files_rewritten} key file(s) and "
            f"{report.rows_rewritten} database key(s) under the first key "
            f"({key_source()}). Keys after the first are no longer needed."
        )
