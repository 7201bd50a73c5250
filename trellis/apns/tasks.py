"""Background work of Apple Push: delivery, re-pushes, expiry warnings."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from trellis.apns.delivery import DELIVER_TASK, deliver_requested_pushes, request_push
from trellis.apns.services import notify_expiry
from trellis.mdm.models import Command, Device
from trellis.tasks.registry import periodic_job


# Runs when pushes are requested, and every minute to pick up any request
# whose task was lost (a worker that stopped before running it).
@periodic_job(DELIVER_TASK, interval=lambda: 60.0)
def deliver() -> None:
    deliver_requested_pushes()


@periodic_job("apns.repush_waiting_devices", interval=lambda: 300.0)
def repush_waiting_devices() -> None:
    """Push again the devices whose commands wait longer than the re-push interval."""
    cutoff = timezone.now() - timedelta(minutes=settings.TRELLIS_REPUSH_MINUTES)
    waiting = (
        Device.objects.filter(
            status__in=Device.MANAGED,
            push_token__isnull=False,
            push_token_invalid_at__isnull=True,
            commands__status__in=Command.DELIVERABLE,
        )
        .filter(Q(last_push_at__isnull=True) | Q(last_push_at__lt=cutoff))
        .values_list("pk", flat=True)
        .distinct()
    )
    request_push(list(waiting))


@periodic_job("apns.warn_before_expiry", interval=lambda: 3600.0)
def warn_before_expiry() -> None:
    notify_expiry()
