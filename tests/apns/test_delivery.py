"""Push delivery with an in-memory provider: coalescing, outcomes, re-pushes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.certificates import DEFAULT_TOPIC
from tests.support.push import FakeProvider
from trellis.apns import delivery
from trellis.apns.models import PushCertificate
from trellis.apns.tasks import repush_waiting_devices
from trellis.audit.models import AuditEvent
from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Device
from trellis.mdm.tasks import mark_unresponsive_devices

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(monkeypatch, settings) -> FakeProvider:
    fake = FakeProvider()
    monkeypatch.setattr(delivery, "get_provider", lambda: fake)
    monkeypatch.setattr(delivery.time, "sleep", lambda seconds: None)
    settings.TRELLIS_TASKS_EAGER = True
    return fake


@pytest.fixture
def device(devices, provider, django_capture_on_commit_callbacks) -> Device:
    # Enrollment itself queues DeviceInformation and asks for a push: send it.
    with django_capture_on_commit_callbacks(execute=True):
        simulated = devices.enrolled()
    assert len(provider.sent) == 1
    provider.sent.clear()
    provider.calls = 0
    row = Device.objects.get(udid=simulated.persona.udid)
    row.simulated = simulated  # type: ignore[attr-defined]
    return row


def test_a_queued_command_pushes_the_device_with_its_token_topic_and_magic(
    devices, provider, django_capture_on_commit_callbacks
) -> None:
    simulated = devices.new()
    simulated.obtain_identity()
    simulated.checkin(simulated.authenticate_message())

    with django_capture_on_commit_callbacks(execute=True):
        assert simulated.checkin(simulated.token_update_message()).status_code == 200

    ((credentials, notification),) = provider.sent
    assert notification.token == simulated.push_token.hex()
    assert notification.topic == DEFAULT_TOPIC
    assert notification.push_magic == simulated.push_magic
    assert credentials.certificate_pem == PushCertificate.objects.get().certificate_pem
    row = Device.objects.get(udid=simulated.persona.udid)
    assert row.last_push_outcome == Device.PushOutcome.DELIVERED
    assert row.push_unanswered_since is not None
    assert row.push_requested_at is None


def test_a_hundred_commands_in_a_burst_make_one_push(
    device, provider, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(100):
            enqueue_command(device, "ProfileList")

    assert len(callbacks) == 1
    assert provider.tokens() == [bytes(device.push_token).hex()]


def test_unregistered_marks_the_token_invalid_and_stops_pushes_until_token_update(
    device, provider, django_capture_on_commit_callbacks
) -> None:
    token = bytes(device.push_token).hex()
    provider.script(token, (410, "Unregistered"))

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "ProfileList")
    device.refresh_from_db()
    assert device.push_token_invalid_at is not None
    assert device.last_push_outcome == Device.PushOutcome.TOKEN_INVALID
    assert device.last_push_reason == "Unregistered"
    assert AuditEvent.objects.filter(action="device.push_token_invalid").exists()

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "CertificateList")
    assert provider.calls == 1, "no push to an invalid token"
    assert device.commands.filter(status="queued").count() == 3, (
        "queued commands are kept"
    )

    simulated = device.simulated  # type: ignore[attr-defined]
    simulated.push_token = b"\x02" * 32
    assert simulated.checkin(simulated.token_update_message()).status_code == 200
    device.refresh_from_db()
    assert device.push_token_invalid_at is None
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "ProfileList")
    assert provider.tokens()[-1] == ("02" * 32)


def test_busy_apns_is_retried_then_delivered(
    device, provider, django_capture_on_commit_callbacks
) -> None:
    token = bytes(device.push_token).hex()
    provider.script(token, (503, "ServiceUnavailable"), (429, "TooManyRequests"))

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "ProfileList")

    assert provider.tokens() == [token] * 3
    device.refresh_from_db()
    assert device.last_push_outcome == Device.PushOutcome.DELIVERED


def test_retries_stop_at_the_limit(
    device, provider, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TRELLIS_APNS_RETRIES = 2
    token = bytes(device.push_token).hex()
    provider.script(token, *[(500, "InternalServerError")] * 10)

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "ProfileList")

    assert len(provider.tokens()) == 3
    device.refresh_from_db()
    assert device.last_push_outcome == Device.PushOutcome.RETRIES_EXHAUSTED


def test_a_refused_certificate_is_shown_to_the_admin(
    device, provider, django_capture_on_commit_callbacks, admin_client
) -> None:
    provider.script(bytes(device.push_token).hex(), (403, "BadCertificate"))

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "ProfileList")

    certificate = PushCertificate.objects.get()
    assert certificate.problem == "BadCertificate"
    page = admin_client.get("/admin/").content.decode()
    assert "Apple refused the push certificate (BadCertificate)" in page


def test_blueprint_and_device_push_from_the_api(
    api, device, provider, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        one = api.post(f"/api/v1/devices/{device.pk}/push/")
    assert one.status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        many = api.post(f"/api/v1/blueprints/{device.blueprint_id}/push/")
    assert (many.status_code, many.json()) == (202, {"devices": 1})
    assert len(provider.sent) == 2

    shown = api.get(f"/api/v1/devices/{device.pk}/").json()
    assert shown["last_push_outcome"] == "delivered"
    assert shown["push_token_valid"] is True


def test_pushing_a_device_with_an_invalid_token_says_why(api, device) -> None:
    Device.objects.filter(pk=device.pk).update(push_token_invalid_at=timezone.now())
    response = api.post(f"/api/v1/devices/{device.pk}/push/")
    assert response.status_code == 409
    assert "no longer valid" in response.json()["detail"]


def test_devices_with_waiting_commands_are_pushed_again(
    device, provider, django_capture_on_commit_callbacks
) -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    Device.objects.filter(pk=device.pk).update(last_push_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        repush_waiting_devices()

    assert provider.tokens() == [bytes(device.push_token).hex()]


def test_a_recently_pushed_device_is_not_pushed_again(
    device, provider, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        repush_waiting_devices()
    assert provider.sent == []


def test_a_device_that_never_answers_becomes_unresponsive_then_recovers(
    device, settings
) -> None:
    settings.TRELLIS_UNRESPONSIVE_HOURS = 24
    Device.objects.filter(pk=device.pk).update(
        push_unanswered_since=timezone.now() - timedelta(hours=25)
    )

    assert mark_unresponsive_devices() == 1
    device.refresh_from_db()
    assert device.status == Device.Status.UNRESPONSIVE

    simulated = device.simulated  # type: ignore[attr-defined]
    assert simulated.connect("Idle").status_code == 200
    device.refresh_from_db()
    assert device.status == Device.Status.ENROLLED
    assert device.push_unanswered_since is None


def test_no_valid_certificate_means_no_push(
    device, provider, django_capture_on_commit_callbacks
) -> None:
    PushCertificate.objects.update(not_after=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(device, "ProfileList")
    assert provider.sent == []
    device.refresh_from_db()
    assert device.last_push_outcome == Device.PushOutcome.NO_CERTIFICATE
