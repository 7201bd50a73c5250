"""Recording audit events."""

from typing import Any

from django.db import models

from trellis.audit.models import AuditEvent


def record_event(
    action: str, target: models.Model, actor: str = "system", **detail: Any
) -> AuditEvent:
    """Record that `action` happened to `target`, done by `actor`."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.model_name or type(target).__name__,
        target_id=str(target.pk),
        detail=detail,
    )
