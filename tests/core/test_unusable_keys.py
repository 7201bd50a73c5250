"""A secret key that does not open the stored keys: clear answers, no traceback."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import Client

from tests.support.certificates import push_pair
from trellis.apns.services import create_push_certificate_request
from trellis.core.sealing import keys_file
from trellis.pki.authority import forget_cached_identities
from trellis.simulator.device import SimulationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def wrong_key(own_data_dir, devices, settings, caplog):
    """Everything set up under the generated key, then another key configured."""
    enrolled = devices.enrolled()
    newcomer = devices.new()
    create_push_certificate_request("Trellis MDM push")
    assert keys_file().exists()
    settings.TRELLIS_SECRET_KEYS = [Fernet.generate_key().decode()]
    forget_cached_identities()
    caplog.set_level(logging.INFO)
    return enrolled, newcomer, devices.blueprint.current_code.code


def _no_traceback(caplog) -> None:
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]


def test_the_portal_answers_503_with_a_reason(wrong_key, client: Client, caplog):
    *_, code = wrong_key

    response = client.post("/enroll", {"code": code})

    assert response.status_code == 503
    assert b"cannot decrypt its keys" in response.content
    assert b"Traceback" not in response.content
    assert "profile-signer.key cannot be decrypted" in caplog.text
    _no_traceback(caplog)


def test_scep_answers_503_and_health_says_unavailable(
    wrong_key, client: Client, caplog
) -> None:
    _, newcomer, _ = wrong_key

    health = client.get("/healthz")
    with pytest.raises(SimulationError, match="PKIOperation answered 503"):
        newcomer.obtain_identity()

    assert health.status_code == 503
    assert health.json()["reason"] == "SecretsUnavailable"
    assert "ca.key cannot be decrypted" in caplog.text
    _no_traceback(caplog)


def test_enrolled_devices_keep_checking_in_without_the_ca_key(wrong_key) -> None:
    enrolled, *_ = wrong_key

    assert enrolled.connect("Idle").status_code == 200
    assert enrolled.checkin(enrolled.token_update_message()).status_code == 200


def test_an_upload_that_needs_a_csr_key_answers_503(wrong_key, api, caplog) -> None:
    response = api.put(
        "/api/v1/apns/certificate/", {"certificate": push_pair().certificate_pem}
    )

    assert response.status_code == 503
    assert "push CSR key" in caplog.text
    _no_traceback(caplog)


def test_make_run_stops_at_start_with_the_reason(wrong_key) -> None:
    with pytest.raises(CommandError, match=r"\.key cannot be decrypted with any key"):
        call_command("trellis_setup")
