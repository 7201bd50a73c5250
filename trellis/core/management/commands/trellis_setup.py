"""First-start set-up: the CA and signing keys, and the first admin."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from trellis.enrollment.services import portal_url
from trellis.pki.authority import get_authority, get_profile_signer, pki_dir


class Command(BaseCommand):
    help = "Create the certificate authority and keys if missing, and the first admin."

    def handle(self, *args: Any, **options: Any) -> None:
        authority = get_authority()
        get_profile_signer()
        self.stdout.write(
            f"Certificate authority: {authority.certificate.subject.rfc4514_string()} "
            f"(keys in {pki_dir()})"
        )
        self._ensure_admin()
        base = settings.TRELLIS_BASE_URL
        self.stdout.write(f"Admin:  {base}/admin/")
        self.stdout.write(f"API:    {base}/api/v1/")
        self.stdout.write(f"Portal: {portal_url()}")

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
