"""Create an admin: a full admin, or with --read-only one who can only look."""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.core.roles import READ_ONLY_ADMINS, create_admin


class Command(BaseCommand):
    help = (
        "Create an admin with a generated password, shown once. With --read-only "
        f"the admin joins the {READ_ONLY_ADMINS!r} group: they see everything in "
        "the Django admin and the API and change nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--read-only", action="store_true", help="View permissions only."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"User {username!r} exists already.")

        password = secrets.token_urlsafe(18)
        create_admin(username, password, options["email"], options["read_only"])

        role = "read-only admin" if options["read_only"] else "admin"
        self.stdout.write(
            f"Created {role} {username!r} with password {password}\n"
            "This password is shown once; change it after you sign in."
        )
