"""Uploading profiles to the library and putting them in Blueprints."""

import dataclasses
import logging

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from trellis.audit.services import record_event
from trellis.blueprints.models import Blueprint
from trellis.core.errors import ProtocolError
from trellis.library.models import BlueprintItem, Profile
from trellis.library.profiles import ConfigurationProfile, ProfileError, read_profile
from trellis.mdm.models import Device

logger = logging.getLogger(__name__)

_NAME_LENGTH = Profile._meta.get_field("name").max_length or 255


class ProfileInUse(ProtocolError):
    """The profile is in Blueprints, so it cannot leave the library."""

    status = 409

    def __init__(self, profile: Profile, blueprints: list[str]) -> None:
        super().__init__(
            f"{profile.name} is in the Blueprints {', '.join(blueprints)}; "
            "remove it from them before deleting it"
        )
        self.blueprints = blueprints


class NotInBlueprint(ProtocolError):
    """The Blueprint does not carry the profile."""

    status = 404


def upload_profile(
    data: bytes, actor: str = "system", name: str = ""
) -> tuple[Profile, bool]:
    """Add a profile to the library, or store it as a new version of its item.

    Answers the library item and whether it is new. The upload is checked in
    full before anything is stored.
    """
    checked = read_profile(data)

    with transaction.atomic():
        existing = _locked(checked.identifier)
        if existing is not None:
            return _store_version(existing, checked, actor, name), False
        try:
            with transaction.atomic():
                profile = _create(checked, actor, name)
        except IntegrityError:
            # Another upload of the same identifier was stored meanwhile.
            existing = _locked(checked.identifier)
            if existing is None:
                raise
            return _store_version(existing, checked, actor, name), False

    logger.info(
        "profile added profile=%s identifier=%s", profile.pk, profile.identifier
    )
    return profile, True


def replace_profile(
    profile: Profile, data: bytes, actor: str = "system", name: str = ""
) -> Profile:
    """Store a new version of a library item; its PayloadIdentifier must not change."""
    checked = check_replacement(profile, data)

    with transaction.atomic():
        locked = Profile.objects.select_for_update().get(pk=profile.pk)
        return _store_version(locked, checked, actor, name)


def check_replacement(profile: Profile, data: bytes) -> ConfigurationProfile:
    """Read a new version of a library item; refuse one with another identifier."""
    checked = read_profile(data)
    if checked.identifier != profile.identifier:
        raise ProfileError(
            f"the uploaded PayloadIdentifier is {checked.identifier!r}, not "
            f"{profile.identifier!r}: devices would install it beside the old "
            "profile instead of replacing it; upload it as a new library item"
        )
    return checked


@transaction.atomic
def delete_profile(profile: Profile, actor: str = "system") -> None:
    """Delete a profile from the library; refused while a Blueprint carries it.

    Deleting is refused rather than taking the profile off its Blueprints
    silently: taking a profile off a Blueprint removes it from that
    Blueprint's devices, a step the admin should take knowingly.
    """
    locked = Profile.objects.select_for_update().get(pk=profile.pk)
    blueprints = sorted(locked.blueprints.values_list("name", flat=True))
    if blueprints:
        raise ProfileInUse(locked, blueprints)

    record_event(
        "library.profile_deleted",
        locked,
        actor,
        identifier=locked.identifier,
        version=locked.version,
        sha256=locked.sha256,
    )
    locked.delete()
    logger.info("profile deleted identifier=%s", profile.identifier)


def add_to_blueprint(
    blueprint: Blueprint, profile: Profile, actor: str = "system"
) -> tuple[BlueprintItem, bool]:
    """Make the profile one every device of the Blueprint must carry."""
    with transaction.atomic():
        item, created = BlueprintItem.objects.get_or_create(
            blueprint=blueprint, profile=profile, defaults={"added_by": actor}
        )
        if created:
            record_event(
                "blueprint.profile_added",
                blueprint,
                actor,
                profile=profile.pk,
                identifier=profile.identifier,
            )
    if created:
        logger.info(
            "profile added to blueprint blueprint=%s profile=%s",
            blueprint.pk,
            profile.pk,
        )
    return item, created


@transaction.atomic
def remove_from_blueprint(
    blueprint: Blueprint, profile: Profile, actor: str = "system"
) -> None:
    """Take the profile off the Blueprint."""
    removed, _ = BlueprintItem.objects.filter(
        blueprint=blueprint, profile=profile
    ).delete()
    if not removed:
        raise NotInBlueprint(f"{blueprint.name} does not carry {profile.name}")

    record_event(
        "blueprint.profile_removed",
        blueprint,
        actor,
        profile=profile.pk,
        identifier=profile.identifier,
    )
    logger.info(
        "profile removed from blueprint blueprint=%s profile=%s",
        blueprint.pk,
        profile.pk,
    )


def profiles_required_by(device: Device) -> QuerySet[Profile]:
    """Answer the profiles the device must carry: those of its Blueprint."""
    return Profile.objects.filter(blueprint_items__blueprint__devices=device)


def required_profiles(devices: QuerySet[Device]) -> dict[int, list[Profile]]:
    """Answer, in one query, the profiles each of the devices must carry."""
    rows = Profile.objects.filter(
        blueprint_items__blueprint__devices__in=devices
    ).annotate(device_id=F("blueprint_items__blueprint__devices"))
    required: dict[int, list[Profile]] = {}
    for profile in rows.order_by("device_id", "identifier"):
        required.setdefault(profile.device_id, []).append(profile)
    return required


def _locked(identifier: str) -> Profile | None:
    return Profile.objects.select_for_update().filter(identifier=identifier).first()


def _create(checked: ConfigurationProfile, actor: str, name: str) -> Profile:
    profile = Profile(version=1)
    _fill(profile, checked, actor)
    profile.name = _name(name or checked.display_name or checked.identifier)
    profile.save()
    record_event(
        "library.profile_added",
        profile,
        actor,
        identifier=profile.identifier,
        sha256=profile.sha256,
        signed=profile.signed,
    )
    return profile


def _store_version(
    profile: Profile, checked: ConfigurationProfile, actor: str, name: str
) -> Profile:
    """Replace the item's content; the same bytes again change nothing.

    An unchanged upload keeps its version, so devices that carry it are not
    sent the same profile again.
    """
    if checked.sha256 == profile.sha256:
        return profile

    previous = profile.sha256
    _fill(profile, checked, actor)
    profile.version += 1
    if name:
        profile.name = _name(name)
    profile.save()

    record_event(
        "library.profile_replaced",
        profile,
        actor,
        identifier=profile.identifier,
        version=profile.version,
        previous_sha256=previous,
        sha256=profile.sha256,
        signed=profile.signed,
    )
    logger.info(
        "profile replaced profile=%s identifier=%s version=%s",
        profile.pk,
        profile.identifier,
        profile.version,
    )
    return profile


def _fill(profile: Profile, checked: ConfigurationProfile, actor: str) -> None:
    profile.identifier = checked.identifier
    profile.payload_uuid = checked.uuid
    profile.display_name = checked.display_name
    profile.organization = checked.organization
    profile.description = checked.description
    profile.scope = checked.scope
    profile.removal_disallowed = checked.removal_disallowed
    profile.payload_types = checked.payload_types
    profile.payloads = [dataclasses.asdict(p) for p in checked.payloads]
    profile.signed = checked.signed
    profile.signer = checked.signer or ""
    profile.content = checked.content
    profile.sha256 = checked.sha256
    profile.size = len(checked.content)
    profile.uploaded_at = timezone.now()
    profile.uploaded_by = actor


def _name(name: str) -> str:
    return name.strip()[:_NAME_LENGTH] or "Untitled profile"
