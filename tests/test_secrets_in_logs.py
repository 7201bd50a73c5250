"""No secret reaches the log, even at DEBUG, along a whole enrollment.

The run goes through the admin API (token), the portal (enrollment code),
SCEP (challenge), Authenticate and TokenUpdate (push magic, push token,
unlock token), connect with DeviceInformation, a push over HTTP/2 to the
APNs stand-in, a refused forgery and a key rotation; then every log line
is searched for every secret, in each form it could be written in.
"""

import base64
import io
import logging
import plistlib
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection

from tests.support.apns_standin import ApnsStandIn
from tests.support.certificates import push_pair
from tests.support.devices import DeviceFactory
from tests.support.push import delivering_to
from trellis.blueprints.models import Blueprint
from trellis.core.logs import KeyValueFormatter
from trellis.core.sealing import keys_file
from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Device

pytestmark = pytest.mark.django_db


class LogCapture:
    """Every record any logger emits, formatted as Trellis formats them."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(
            KeyValueFormatter("%(levelname)s %(name)s %(message)s")
        )
        self.handler.setLevel(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def __enter__(self) -> "LogCapture":
        root = logging.getLogger()
        self.level = root.level
        root.setLevel(logging.DEBUG)
        self.loggers = [root] + [
            logger
            for logger in logging.Logger.manager.loggerDict.values()
            if isinstance(logger, logging.Logger) and not logger.propagate
        ]
        for logger in self.loggers:
            logger.addHandler(self.handler)
        self.handler.addFilter(self._keep)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for logger in self.loggers:
            logger.removeHandler(self.handler)
        logging.getLogger().setLevel(self.level)

    def _keep(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return True

    @property
    def text(self) -> str:
        return self.stream.getvalue()


def forms(secret: str | bytes) -> set[str]:
    """Each way a secret could be written: as itself, hex, base64, repr."""
    if isinstance(secret, str):
        return {secret, secret.replace("-", "")}
    return {
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret)[2:-1],
    }


def leaks(text: str, secrets: dict[str, str | bytes]) -> list[str]:
    """Name every secret found in the text, with the form it was found in."""
    found = []
    for name, secret in secrets.items():
        written = sorted(form for form in forms(secret) if form and form in text)
        if written:
            found.append(f"{name} as {written[0][:24]}…")
    return found


@pytest.fixture
def standin(settings, own_data_dir) -> Iterator[ApnsStandIn]:
    with ApnsStandIn() as server, delivering_to(server, settings):
        yield server


@pytest.fixture
def debug_sql() -> Iterator[None]:
    """Let Django log every query, as it does with TRELLIS_DEBUG on."""
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = False


def test_a_whole_enrollment_logs_no_secret(
    api, standin, debug_sql, django_capture_on_commit_callbacks
) -> None:
    pair = push_pair()
    standin.trust_client_issuer(pair.certificate)
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]

    with LogCapture() as logs, django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/apns/csr/", {}).status_code == 201
        upload = {"certificate": pair.certificate_pem, "private_key": pair.key_pem}
        assert api.put("/api/v1/apns/certificate/", upload).status_code == 200
        api.patch("/api/v1/enrollment-portal/", {"enabled": True}, format="json")
        created = api.post(
            "/api/v1/blueprints/",
            {"name": "Field iPhones", "enrollment_enabled": True},
            format="json",
        ).json()
        factory = DeviceFactory(Blueprint.objects.get(pk=created["id"]))

        device = factory.new("iphone")
        device.enroll()
        assert device.run_commands() == ["DeviceInformation"]
        row = Device.objects.get(udid=device.persona.udid)
        enqueue_command(row, "ProfileList")
        forged = device.token_update_message() | {"PushMagic": "forged"}
        refused = device.client.put("/mdm/checkin", content=plistlib.dumps(forged))
        call_command("rotate_secret_keys", stdout=io.StringIO())

    assert standin.wait_for(1)
    assert refused.status_code == 403
    secrets: dict[str, str | bytes] = {
        "SCEP challenge": device.profile.challenge,
        "push magic": device.push_magic,
        "push token": device.push_token,
        "unlock token": bytes(row.unlock_token),
        "API token": token,
        "enrollment code": created["enrollment_code"],
        "secret key": keys_file().read_text().strip(),
        "private key": "PRIVATE KEY",
        "push certificate key": pair.key_pem.splitlines()[1],
    }
    # The run was really logged, at DEBUG, through the request and push paths.
    assert any(r.levelno == logging.DEBUG for r in logs.records)
    for expected in ("TokenUpdate udid=", "command sent", "pushes outcome=delivered"):
        assert expected in logs.text
    assert leaks(logs.text, secrets) == [], logs.text


def test_the_search_finds_a_secret_that_was_logged() -> None:
    token = bytes(range(32))
    logger = logging.getLogger("trellis.test")

    with LogCapture() as logs:
        logger.debug("token=%s", base64.b64encode(token).decode())
        logger.info("magic=%s", "6A1B-22")

    found = leaks(logs.text, {"push token": token, "push magic": "6A1B-22"})
    assert [name.split(" as ")[0] for name in found] == ["push token", "push magic"]
