import io

import pytest
from django.core.management import CommandError, call_command

from tests.support.certificates import DEFAULT_TOPIC, push_pair

pytestmark = pytest.mark.django_db


def test_install_and_show_from_the_command_line(tmp_path) -> None:
    pair = push_pair()
    (tmp_path / "push.pem").write_text(pair.certificate_pem)
    (tmp_path / "push.key").write_text(pair.key_pem)
    out = io.StringIO()

    call_command(
        "push_certificate",
        "install",
        "--certificate",
        str(tmp_path / "push.pem"),
        "--key",
        str(tmp_path / "push.key"),
        stdout=out,
    )

    assert f"Installed the push certificate for {DEFAULT_TOPIC}." in out.getvalue()
    assert "Expires:" in out.getvalue()


def test_a_csr_is_printed_and_its_key_kept() -> None:
    out = io.StringIO()
    call_command("push_certificate", "csr", "--email", "it@example.org", stdout=out)
    assert out.getvalue().startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert "PRIVATE KEY" not in out.getvalue()


def test_errors_are_explained(tmp_path) -> None:
    with pytest.raises(CommandError, match="No push certificate is installed"):
        call_command("push_certificate", "show")
    with pytest.raises(CommandError, match="No such file"):
        call_command(
            "push_certificate", "install", "--certificate", str(tmp_path / "none.pem")
        )
