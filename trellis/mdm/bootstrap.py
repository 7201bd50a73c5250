"""A Mac's bootstrap token: kept by SetBootstrapToken, returned by GetBootstrapToken."""

import logging

from django.db import transaction

from trellis.audit.services import record_event
from trellis.core.errors import BadMessage
from trellis.mdm.devices import bound_device
from trellis.mdm.identity import RequestIdentity
from trellis.mdm.protocol import Answer, CheckinMessage

logger = logging.getLogger(__name__)

MAX_TOKEN_BYTES = 64 * 1024


@transaction.atomic
def set_bootstrap_token(identity: RequestIdentity, message: CheckinMessage) -> Answer:
    """Store the device's bootstrap token, byte for byte; no token removes it."""
    device = bound_device(identity, message.udid, for_update=True)
    token = message.fields.get("BootstrapToken")
    if token is not None and (
        not isinstance(token, bytes) or len(token) > MAX_TOKEN_BYTES
    ):
        raise BadMessage("BootstrapToken must be data")
    device.bootstrap_token = token or None
    device.awaiting_configuration = message.fields.get("AwaitingConfiguration") is True
    device.save(update_fields=["bootstrap_token", "awaiting_configuration"])
    action = (
        "device.bootstrap_token_escrowed" if token else "device.bootstrap_token_removed"
    )
    record_event(action, device, "device", udid=device.udid)
    logger.info("SetBootstrapToken udid=%s stored=%s", device.udid, bool(token))
    return Answer()


def get_bootstrap_token(identity: RequestIdentity, message: CheckinMessage) -> Answer:
    """Hand the device its stored bootstrap token (none stored: no key)."""
    device = bound_device(identity, message.udid)
    logger.info(
        "GetBootstrapToken udid=%s stored=%s", device.udid, bool(device.bootstrap_token)
    )
    if not device.bootstrap_token:
        return Answer.plist({})
    return Answer.plist({"BootstrapToken": bytes(device.bootstrap_token)})
