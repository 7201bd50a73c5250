"""First-start set-up and its first admin."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_a_weak_admin_password_is_refused_and_no_admin_is_made(
    own_data_dir, settings
) -> None:
    settings.TRELLIS_ADMIN_USER = "owner"
    settings.TRELLIS_ADMIN_PASSWORD = "password"

    with pytest.raises(CommandError, match="TRELLIS_ADMIN_PASSWORD is too weak"):
        call_command("trellis_setup")

    assert not get_user_model().objects.filter(username="owner").exists()


def test_a_strong_admin_password_is_used(own_data_dir, settings, capsys) -> None:
    settings.TRELLIS_ADMIN_USER = "owner"
    settings.TRELLIS_ADMIN_PASSWORD = "plum-orbit-lantern-42"

    call_command("trellis_setup")

    owner = get_user_model().objects.get(username="owner")
    assert owner.is_superuser and owner.check_password("plum-orbit-lantern-42")
    assert "password from TRELLIS_ADMIN_PASSWORD" in capsys.readouterr().out


def test_without_a_password_one_is_generated_and_shown_once(
    own_data_dir, settings, capsys
) -> None:
    settings.TRELLIS_ADMIN_USER = "owner"
    settings.TRELLIS_ADMIN_PASSWORD = ""

    call_command("trellis_setup")

    out = capsys.readouterr().out
    password = out.split("with password ", 1)[1].split()[0]
    assert get_user_model().objects.get(username="owner").check_password(password)
