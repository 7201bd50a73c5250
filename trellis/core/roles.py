"""Admin roles: full admins (superusers) and read-only admins."""

import logging
from typing import Any

from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from trellis.audit.services import record_event

logger = logging.getLogger(__name__)

READ_ONLY_ADMINS = "Read-only admins"


def grant_read_only_views(
    sender: AppConfig, using: str = "default", **signal: Any
) -> None:
    """Let read-only admins view every model of a Trellis app, and nothing more.

    Runs after each app's migrations, once Django has made its permissions,
    so a model added later is readable without anyone granting it.
    """
    if not sender.name.startswith("trellis."):
        return
    group, _ = Group.objects.using(using).get_or_create(name=READ_ONLY_ADMINS)
    views = Permission.objects.using(using).filter(
        content_type__app_label=sender.label, codename__startswith="view_"
    )
    group.permissions.add(*views)


@transaction.atomic
def create_admin(
    username: str, password: str, email: str = "", read_only: bool = False
) -> AbstractBaseUser:
    """Create a full admin (a superuser) or a read-only admin."""
    users = get_user_model()
    if not read_only:
        user = users.objects.create_superuser(username, email, password)
    else:
        user = users.objects.create_user(username, email, password, is_staff=True)
        group, _ = Group.objects.get_or_create(name=READ_ONLY_ADMINS)
        user.groups.add(group)
    record_event("admin.created", user, read_only=read_only)
    logger.info("admin created username=%s read_only=%s", username, read_only)
    return user
