"""Creating Blueprints and issuing, changing and finding their codes."""

import hmac
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.audit.services import record_event
from trellis.blueprints.codes import (
    code_digest,
    generate_code,
    is_well_formed,
    normalize_code,
)
from trellis.blueprints.models import Blueprint, EnrollmentCode

logger = logging.getLogger(__name__)

_ISSUE_ATTEMPTS = 5


@transaction.atomic
def create_blueprint(
    name: str, enrollment_enabled: bool = False, actor: str = "system"
) -> Blueprint:
    """Create a Blueprint with its first enrollment code."""
    blueprint = Blueprint.objects.create(
        name=name, enrollment_enabled=enrollment_enabled
    )
    register_new_blueprint(blueprint, actor)
    return blueprint


def register_new_blueprint(blueprint: Blueprint, actor: str = "system") -> None:
    """Give a just-saved Blueprint its first code and record its creation."""
    _issue_code(blueprint, version=1)
    record_event("blueprint.created", blueprint, actor, name=blueprint.name)
    logger.info("blueprint created blueprint=%s", blueprint.pk)


@transaction.atomic
def update_blueprint(
    blueprint: Blueprint, actor: str = "system", **changes: Any
) -> Blueprint:
    """Rename a Blueprint or switch its enrollment; record what changed."""
    before = {name: getattr(blueprint, name) for name in changes}
    for name, value in changes.items():
        setattr(blueprint, name, value)
    blueprint.save()
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if changed:
        record_event("blueprint.updated", blueprint, actor, **changed)
    return blueprint


@transaction.atomic
def change_code(blueprint: Blueprint, actor: str = "system") -> EnrollmentCode:
    """Retire the Blueprint's code and issue a new one.

    From this moment the old code enrolls nothing: the portal refuses it, and
    profiles already downloaded with it fail their SCEP challenge and their
    Authenticate, because both check that their code is still current.
    Devices already enrolled are not touched.
    """
    locked = Blueprint.objects.select_for_update().get(pk=blueprint.pk)
    current = locked.enrollment_codes.filter(retired_at__isnull=True).first()
    version = 1
    if current is not None:
        current.retired_at = timezone.now()
        current.save(update_fields=["retired_at"])
        version = current.version + 1
    code = _issue_code(locked, version)
    record_event("blueprint.code_changed", locked, actor, code_version=version)
    logger.info("enrollment code changed blueprint=%s version=%s", locked.pk, version)
    return code


def find_enrollable_code(entered: str) -> EnrollmentCode | None:
    """Answer the current code matching what a person typed, if it enrolls now.

    Unknown, retired and disabled codes all answer None.
    """
    normalized = normalize_code(entered)
    if not is_well_formed(normalized):
        return None
    found = (
        EnrollmentCode.objects.select_related("blueprint")
        .filter(digest=code_digest(normalized))
        .first()
    )
    if found is None or not hmac.compare_digest(found.code, normalized):
        return None
    if found.retired_at is not None or not found.blueprint.enrollment_enabled:
        return None
    return found


def _issue_code(blueprint: Blueprint, version: int) -> EnrollmentCode:
    for _ in range(_ISSUE_ATTEMPTS):
        code = generate_code()
        try:
            with transaction.atomic():
                return EnrollmentCode.objects.create(
                    blueprint=blueprint,
                    code=code,
                    digest=code_digest(code),
                    version=version,
                )
        except IntegrityError:
            # A collision with an existing code: vanishingly rare; draw again.
            continue
    raise RuntimeError("could not draw a unique enrollment code")
