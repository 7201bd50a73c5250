import re

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from trellis.audit.models import AuditEvent
from trellis.core.roles import READ_ONLY_ADMINS, create_admin

pytestmark = pytest.mark.django_db


def test_read_only_admins_may_view_every_trellis_model_and_nothing_else() -> None:
    group = Group.objects.get(name=READ_ONLY_ADMINS)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    trellis_models = {
        (model._meta.app_label, f"view_{model._meta.model_name}")
        for config in apps.get_app_configs()
        if config.name.startswith("trellis.")
        for model in config.get_models()
    }

    assert granted == trellis_models
    assert ("blueprints", "view_blueprint") in granted
    assert ("mdm", "view_device") in granted


def test_a_read_only_admin_is_staff_with_view_permissions_only() -> None:
    user = create_admin("viewer", "a long passphrase", read_only=True)

    assert user.is_staff and not user.is_superuser
    assert user.has_perm("blueprints.view_blueprint")
    assert not user.has_perm("blueprints.change_blueprint")
    assert not user.has_perm("enrollment.change_enrollmentportal")
    assert not user.has_perm("authtoken.view_token")
    assert AuditEvent.objects.get(action="admin.created").detail == {"read_only": True}


def test_a_full_admin_is_a_superuser() -> None:
    user = create_admin("boss", "a long passphrase")
    assert user.is_superuser and user.is_staff


def test_the_command_creates_a_read_only_admin_with_a_password_shown_once(
    capsys,
) -> None:
    call_command("create_admin", "--read-only", "auditor")

    output = capsys.readouterr().out
    password = re.search(r"with password (\S+)", output).group(1)
    user = authenticate(username="auditor", password=password)
    assert user is not None and user.is_staff and not user.is_superuser
    assert user.groups.filter(name=READ_ONLY_ADMINS).exists()
    assert "read-only admin 'auditor'" in output


def test_the_command_refuses_an_existing_username(admin_user) -> None:
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_admin", admin_user.username)
