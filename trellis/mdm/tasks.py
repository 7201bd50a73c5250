"""Background work on devices and their queues."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from trellis.mdm.commands import expire_old_commands
from trellis.mdm.models import Device
from trellis.mdm.renewal import renew_expiring_identities
from trellis.tasks.registry import periodic_job


@periodic_job("mdm.mark_unresponsive_devices", interval=lambda: 600.0)
def mark_unresponsive_devices() -> int:
    """Show as unresponsive the devices pushed long ago that never answered."""
    cutoff = timezone.now() - timedelta(hours=settings.TRELLIS_UNRESPONSIVE_HOURS)
    return Device.objects.filter(
        status=Device.Status.ENROLLED, push_unanswered_since__lt=cutoff
    ).update(status=Device.Status.UNRESPONSIVE)


@periodic_job("mdm.expire_old_commands", interval=lambda: 3600.0)
def expire_commands() -> int:
    return expire_old_commands()


@periodic_job("mdm.renew_expiring_identities", interval=lambda: 3600.0)
def renew_identities() -> int:
    return renew_expiring_identities()
