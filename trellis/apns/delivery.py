"""Waking devices: coalescing push requests, sending them, recording the answers.

Nothing here runs in a device's or an admin's request: ``request_push`` only
marks devices, and background work sends one push per marked device.
"""

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from trellis.apns.keys import private_key_pem
from trellis.apns.models import PushCertificate
from trellis.apns.protocol import Notification, Outcome, PushResult, backoff
from trellis.apns.provider import HTTP2Provider, PushCredentials, PushProvider
from trellis.apns.services import valid_push_certificate
from trellis.audit.services import record_event
from trellis.mdm.models import Device
from trellis.tasks.runner import run_soon

logger = logging.getLogger(__name__)

DELIVER_TASK = "apns.deliver_requested_pushes"
BATCH = 5000

_RECORDED_OUTCOMES = {
    Outcome.DELIVERED: Device.PushOutcome.DELIVERED,
    Outcome.TOKEN_INVALID: Device.PushOutcome.TOKEN_INVALID,
    Outcome.CERTIFICATE_ERROR: Device.PushOutcome.CERTIFICATE_ERROR,
    Outcome.RETRY: Device.PushOutcome.RETRIES_EXHAUSTED,
    Outcome.REJECTED: Device.PushOutcome.REJECTED,
}


@dataclass
class PushReport:
    """How many pushes ended in each outcome."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str, count: int = 1) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count


def request_push(device_ids: Iterable[int]) -> int:
    """Ask for these devices to be pushed; answer how many were not already waiting.

    Requests made while a device is already waiting add nothing: a hundred
    commands queued within the coalescing window produce one push.
    """
    ids = list(device_ids)
    marked = Device.objects.filter(pk__in=ids, push_requested_at__isnull=True).update(
        push_requested_at=timezone.now()
    )
    if marked:
        delay = settings.TRELLIS_PUSH_COALESCE_SECONDS
        transaction.on_commit(lambda: run_soon(DELIVER_TASK, delay))
    return marked


def push_refusal(device: Device) -> str:
    """Why a push to this device cannot go out now, or '' if it can."""
    if device.status not in Device.MANAGED:
        return "The device is not enrolled."
    if not device.push_token or not device.push_magic:
        return "The device has not sent a push token yet."
    certificate = device.identity_certificate
    if certificate is not None and certificate.revoked_at is not None:
        return "The device's identity is revoked: it could not fetch its commands."
    if device.push_token_invalid_at is not None:
        return (
            "APNs said the device's push token is no longer valid; pushes resume "
            "after the device's next TokenUpdate."
        )
    return ""


def deliver_requested_pushes() -> PushReport:
    """Push every device marked by request_push, in batches."""
    report = PushReport()
    while ids := _claim_requested(BATCH):
        for outcome, count in push_devices(ids).outcomes.items():
            report.add(outcome, count)
    return report


def push_devices(device_ids: Sequence[int]) -> PushReport:
    """Send one push to each of these devices that can receive one now."""
    report = PushReport()
    rows = list(
        Device.objects.filter(
            pk__in=device_ids,
            status__in=Device.MANAGED,
            push_token__isnull=False,
            push_token_invalid_at__isnull=True,
        )
        # A revoked device would be refused when it connects: waking it is noise.
        .exclude(identity_certificate__revoked_at__isnull=False)
        .exclude(push_magic="")
        .values_list("pk", "push_token", "topic", "push_magic")
    )
    if not rows:
        return report
    certificate = valid_push_certificate()
    if certificate is None:
        logger.warning("no valid push certificate: %s devices not pushed", len(rows))
        _record(Device.PushOutcome.NO_CERTIFICATE, "", [row[0] for row in rows])
        report.add(Device.PushOutcome.NO_CERTIFICATE, len(rows))
        return report

    notifications = [
        Notification(pk, bytes(token or b"").hex(), topic, magic)
        for pk, token, topic, magic in rows
    ]
    results = send_with_retries(
        get_provider(), credentials_of(certificate), notifications
    )
    _record_results(results, certificate)
    for result in results:
        report.add(_RECORDED_OUTCOMES[result.outcome])
    return report


def send_with_retries(
    provider: PushProvider,
    credentials: PushCredentials,
    notifications: list[Notification],
) -> list[PushResult]:
    """Send; resend what APNs asked to retry (429, 5xx, no answer), with backoff."""
    final: dict[int, PushResult] = {}
    pending = notifications
    for attempt in range(1, settings.TRELLIS_APNS_RETRIES + 2):
        results = provider.send(credentials, pending)
        retry = [r for r in results if r.outcome == Outcome.RETRY]
        final.update((r.notification.device_id, r) for r in results)
        if not retry or attempt > settings.TRELLIS_APNS_RETRIES:
            break
        time.sleep(backoff(attempt))
        pending = [r.notification for r in retry]
    return [final[n.device_id] for n in notifications]


def credentials_of(certificate: PushCertificate) -> PushCredentials:
    """The certificate as the provider needs it."""
    fingerprint = hashlib.sha256(certificate.certificate_pem.encode()).hexdigest()
    return PushCredentials(
        fingerprint, certificate.certificate_pem, private_key_pem(certificate)
    )


def get_provider() -> PushProvider:
    """This process's APNs provider, built from the settings."""
    return _provider(
        settings.TRELLIS_APNS_URL,
        settings.TRELLIS_APNS_CA_FILE,
        settings.TRELLIS_APNS_CONCURRENCY,
        settings.TRELLIS_APNS_EXPIRATION_SECONDS,
    )


@cache
def _provider(
    url: str, ca_file: str, concurrency: int, expiration: int
) -> HTTP2Provider:
    return HTTP2Provider(url, ca_file, concurrency, expiration)


def _claim_requested(limit: int) -> list[int]:
    with transaction.atomic():
        requested = Device.objects.filter(push_requested_at__isnull=False).order_by(
            "push_requested_at"
        )
        if connection.features.has_select_for_update_skip_locked:
            # Workers running this at once each take different devices.
            requested = requested.select_for_update(skip_locked=True)
        ids = list(requested.values_list("pk", flat=True)[:limit])
        Device.objects.filter(pk__in=ids).update(push_requested_at=None)
    return ids


def _record_results(results: list[PushResult], certificate: PushCertificate) -> None:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for result in results:
        groups[(_RECORDED_OUTCOMES[result.outcome], result.reason)].append(
            result.notification.device_id
        )
    for (outcome, reason), ids in groups.items():
        _record(outcome, reason, ids)
        logger.info(
            "pushes outcome=%s reason=%s devices=%s", outcome, reason or "-", len(ids)
        )

    refused = [r for r in results if r.outcome == Outcome.CERTIFICATE_ERROR]
    if refused:
        _report_certificate_problem(
            certificate, refused[0].reason or f"HTTP {refused[0].status}"
        )
    elif any(r.outcome == Outcome.DELIVERED for r in results) and certificate.problem:
        PushCertificate.objects.filter(pk=certificate.pk).update(
            problem="", problem_at=None
        )


def _record(outcome: str, reason: str, ids: list[int]) -> None:
    now = timezone.now()
    changes: dict[str, object] = {
        "last_push_at": now,
        "last_push_outcome": outcome,
        "last_push_reason": reason[:64],
    }
    if outcome == Device.PushOutcome.DELIVERED:
        changes["push_unanswered_since"] = Coalesce(
            F("push_unanswered_since"), Value(now)
        )
    if outcome == Device.PushOutcome.TOKEN_INVALID:
        changes["push_token_invalid_at"] = now
    Device.objects.filter(pk__in=ids).update(**changes)
    if outcome == Device.PushOutcome.TOKEN_INVALID:
        for device in Device.objects.filter(pk__in=ids).only("pk", "udid"):
            record_event("device.push_token_invalid", device, "apns", reason=reason)


def _report_certificate_problem(certificate: PushCertificate, reason: str) -> None:
    logger.warning(
        "APNs refused the push certificate topic=%s reason=%s",
        certificate.topic,
        reason,
    )
    updated = (
        PushCertificate.objects.filter(pk=certificate.pk)
        .exclude(problem=reason)
        .update(problem=reason, problem_at=timezone.now())
    )
    if updated:
        record_event("apns.certificate_refused", certificate, "apns", reason=reason)
