"""First-start set-up: the CA and signing keys, and the first admin."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from trellis.core.errors import SecretsUnavailable
from trellis.core.sealing import key_source, uses_generated_key
from trellis.core.secrets_at_rest import reseal_secrets
from trellis.enrollment.services import portal_url
from trellis.pki.authority import get_authority, get_profile_signer, pki_dir


class Command(BaseCommand):
    help = "Create the certificate authority and keys if missing, and the first admin."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            authority = get_authority()
            get_profile_signer()
            # Keys of installs from before encryption are sealed now; a key
            # that no configured key opens stops the start here, not at the
            # first request.
            resealed = reseal_secrets(rotate=False)
        except SecretsUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Certificate authority: {authority.certificate.subject.rfc4514_string()} "
            f"(keys in {pki_dir()})"
        )
        self._describe_sealing(resealed.files_rewritten + resealed.rows_rewritten)
        self._ensure_admin()
        base = settings.TRELLIS_BASE_URL
        self.stdout.write(f"Admin:  {base}/admin/")
        self.stdout.write(f"API:    {base}/api/v1/")
        self.stdout.write(f"Portal: {portal_url()}")

    def _describe_sealing(self, sealed_now: int) -> None:
        if sealed_now:
            self.stdout.write(f"Encrypted {sealed_now} private key(s) stored in clear.")
        self.stdout.write(f"Private keys are encrypted with a key {key_source()}.")
        if uses_generated_key():
            self.stdout.write(
                self.style.WARNING(
                    "That key sits beside the keys it protects: it only protects "
                    "against a leak of the database alone. For production, move "
                    "its content into TRELLIS_SECRET_KEYS and delete the file."
                )
            )

    def _ensure_admin(self) -> None:
        users = get_user_model()
        username = settings.TRELLIS_ADMIN_USER
        if users.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user {username!r} exists.")
            return
        password = settings.TRELLIS_ADMIN_PASSWORD
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        else:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(
                    "TRELLIS_ADMIN_PASSWORD is too weak: " + " ".join(exc.messages)
                ) from exc
        users.objects.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user {username!r} with password {password}\n"
                    "This password is shown once; change it after you sign in."
                )
            )
        else:
            self.stdout.write(
                f"Created admin user {username!r} "
                "(password from TRELLIS_ADMIN_PASSWORD)."
            )
