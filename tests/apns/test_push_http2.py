"""Pushes over real HTTP/2 and TLS to a local APNs stand-in."""

import json
from collections.abc import Iterator

import pytest
from django.utils import timezone

from tests.support.apns_standin import (
    OK,
    SERVICE_UNAVAILABLE,
    ApnsStandIn,
    unregistered,
)
from tests.support.certificates import DEFAULT_TOPIC, push_pair
from tests.support.push import FakeProvider, delivering_to
from trellis.apns import delivery
from trellis.apns.models import PushCertificate
from trellis.apns.protocol import Notification, Outcome
from trellis.apns.provider import HTTP2Provider, PushCredentials
from trellis.apns.services import install_push_certificate
from trellis.mdm.commands import enqueue_command
from trellis.mdm.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin(settings, push_certificate) -> Iterator[ApnsStandIn]:
    server = ApnsStandIn(client_issuers=[push_certificate.certificate])
    with server, delivering_to(server, settings):
        yield server


@pytest.fixture
def enrolled(devices, standin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        simulated = devices.enrolled()
    standin.wait_for(1)
    standin.clear()
    return simulated


def test_a_queued_command_reaches_apns_as_apple_specifies(
    enrolled, standin, push_certificate, django_capture_on_commit_callbacks
) -> None:
    row = Device.objects.get(udid=enrolled.persona.udid)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(row, "ProfileList")

    (request,) = standin.wait_for(1)
    assert request.method == "POST"
    assert request.path == f"/3/device/{enrolled.push_token.hex()}"
    assert request.headers["apns-topic"] == DEFAULT_TOPIC
    assert request.headers["apns-push-type"] == "mdm"
    assert request.headers["apns-priority"] == "10"
    assert int(request.headers["apns-expiration"]) > timezone.now().timestamp()
    assert (
        request.body
        == json.dumps({"mdm": enrolled.push_magic}, separators=(",", ":")).encode()
    )
    assert request.client_serial == push_certificate.certificate.serial_number


def test_unregistered_stops_pushes_until_the_next_token_update(
    enrolled, standin, django_capture_on_commit_callbacks
) -> None:
    row = Device.objects.get(udid=enrolled.persona.udid)
    standin.script(enrolled.push_token.hex(), unregistered())
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(row, "ProfileList")
    assert len(standin.wait_for(1)) == 1
    row.refresh_from_db()
    assert row.last_push_reason == "Unregistered"

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(row, "CertificateList")
        delivery.deliver_requested_pushes()
    assert len(standin.recorded) == 1, "no retry to an unregistered token"

    enrolled.push_token = b"\x07" * 32
    assert enrolled.checkin(enrolled.token_update_message()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(row, "ProfileList")
    assert standin.wait_for(2)[-1].token == "07" * 32


def test_a_renewed_certificate_is_used_by_the_next_push_without_restart(
    enrolled, standin, push_certificate, django_capture_on_commit_callbacks
) -> None:
    row = Device.objects.get(udid=enrolled.persona.udid)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(row, "ProfileList")
    first = standin.wait_for(1)[0]

    renewed = push_pair()
    standin.trust_client_issuer(renewed.certificate)
    install_push_certificate(renewed.certificate_pem, renewed.key_pem)
    Device.objects.filter(pk=row.pk).update(push_requested_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_command(row, "CertificateList")

    second = standin.wait_for(2)[1]
    assert first.client_serial == push_certificate.certificate.serial_number
    assert second.client_serial == renewed.certificate.serial_number


def test_a_blueprint_push_runs_in_parallel_over_one_connection(
    standin, blueprint, django_capture_on_commit_callbacks
) -> None:
    Device.objects.bulk_create(
        Device(
            udid=f"BULK-{n:04d}",
            blueprint=blueprint,
            status=Device.Status.ENROLLED,
            push_token=n.to_bytes(32, "big"),
            push_magic=f"MAGIC-{n}",
            topic=DEFAULT_TOPIC,
        )
        for n in range(300)
    )
    for n in range(0, 300, 7):
        standin.script(n.to_bytes(32, "big").hex(), OK.after(0.2))

    with django_capture_on_commit_callbacks(execute=True):
        delivery.request_push(Device.objects.values_list("pk", flat=True))

    recorded = standin.wait_for(300)
    assert len({r.token for r in recorded}) == 300
    assert standin.connections_opened == 1
    assert standin.max_concurrent_streams_seen > 1
    assert Device.objects.filter(last_push_outcome="delivered").count() == 300


@pytest.fixture(params=["fake", "http2"])
def any_provider(request, push_certificate):
    """Every PushProvider, each scripted to answer the same way."""
    answers = {
        "aa" * 32: (200, ""),
        "bb" * 32: (410, "Unregistered"),
        "cc" * 32: (503, "ServiceUnavailable"),
    }
    if request.param == "fake":
        fake = FakeProvider()
        for token, answer in answers.items():
            fake.script(token, answer)
        yield fake
        return
    with ApnsStandIn(client_issuers=[push_certificate.certificate]) as server:
        server.script("bb" * 32, unregistered())
        server.script("cc" * 32, SERVICE_UNAVAILABLE)
        provider = HTTP2Provider(server.url, server.ca_file)
        yield provider
        provider.close()


def test_provider_contract(any_provider, push_certificate) -> None:
    credentials = PushCredentials(
        "id", push_certificate.certificate_pem, push_certificate.key_pem
    )
    notifications = [
        Notification(n, token * 32, DEFAULT_TOPIC, f"M{n}")
        for n, token in enumerate(["aa", "bb", "cc"])
    ]

    results = any_provider.send(credentials, notifications)

    assert [r.notification for r in results] == notifications
    assert [r.outcome for r in results] == [
        Outcome.DELIVERED,
        Outcome.TOKEN_INVALID,
        Outcome.RETRY,
    ]
    assert results[1].reason == "Unregistered"
    assert any_provider.send(credentials, []) == []


def test_an_unreachable_apns_is_retried_then_recorded(
    settings, devices, push_certificate, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    settings.TRELLIS_TASKS_EAGER = True
    settings.TRELLIS_APNS_RETRIES = 1
    monkeypatch.setattr(delivery.time, "sleep", lambda seconds: None)
    with django_capture_on_commit_callbacks(execute=True):
        simulated = devices.enrolled()
    row = Device.objects.get(udid=simulated.persona.udid)
    assert row.last_push_outcome == Device.PushOutcome.RETRIES_EXHAUSTED
    assert row.last_push_reason == "ConnectError"
    assert PushCertificate.objects.get().problem == ""
