"""The enrollment profile: a Configuration profile with SCEP, MDM and CA payloads.

Pure: builds the unsigned property list from plain values. Keys follow
Apple's profile schemas com.apple.security.scep, com.apple.mdm and
com.apple.security.root.
"""

import plistlib
import uuid
from dataclasses import dataclass
from typing import Any

# Every access right the MDM protocol defines (1 through 4096, summed).
ALL_ACCESS_RIGHTS = 8191

# SCEP "Key Usage": 1 signing + 4 encryption.
KEY_USAGE_SIGN_AND_ENCRYPT = 5

SUBJECT_KEYS = frozenset({"C", "ST", "L", "O", "OU", "CN"})


@dataclass(frozen=True)
class EnrollmentProfileSpec:
    """Everything that varies between two enrollment profiles."""

    identifier: str
    organization: str
    blueprint_name: str
    scep_url: str
    challenge: str
    subject: tuple[tuple[str, str], ...]
    server_url: str
    checkin_url: str
    topic: str
    ca_certificate_der: bytes


def build_enrollment_profile(spec: EnrollmentProfileSpec) -> bytes:
    """Answer the unsigned enrollment profile as an XML property list."""
    scep_uuid = _new_uuid()
    payloads = [
        _root_payload(spec),
        _scep_payload(spec, scep_uuid),
        _mdm_payload(spec, scep_uuid),
    ]
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": spec.identifier,
        "PayloadUUID": _new_uuid(),
        "PayloadDisplayName": f"{spec.organization} enrollment",
        "PayloadDescription": (
            f"Enrolls this device in {spec.organization}'s device management "
            f"({spec.blueprint_name})."
        ),
        "PayloadOrganization": spec.organization,
        "PayloadScope": "System",
        "PayloadRemovalDisallowed": False,
        "PayloadContent": payloads,
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def scep_subject(pairs: tuple[tuple[str, str], ...]) -> list[list[list[str]]]:
    """Answer a subject in Apple's nested-array form, one RDN per pair."""
    for key, _ in pairs:
        if key not in SUBJECT_KEYS:
            raise ValueError(
                f"subject key {key!r} is not one of {sorted(SUBJECT_KEYS)}"
            )
    return [[[key, value]] for key, value in pairs]


def _root_payload(spec: EnrollmentProfileSpec) -> dict[str, Any]:
    return {
        "PayloadType": "com.apple.security.root",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{spec.identifier}.ca",
        "PayloadUUID": _new_uuid(),
        "PayloadDisplayName": f"{spec.organization} device CA",
        "PayloadCertificateFileName": "trellis-device-ca.cer",
        "PayloadContent": spec.ca_certificate_der,
    }


def _scep_payload(spec: EnrollmentProfileSpec, payload_uuid: str) -> dict[str, Any]:
    return {
        "PayloadType": "com.apple.security.scep",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{spec.identifier}.scep",
        "PayloadUUID": payload_uuid,
        "PayloadDisplayName": "Device identity",
        "PayloadContent": {
            "URL": spec.scep_url,
            "Name": spec.organization,
            "Subject": scep_subject(spec.subject),
            "Challenge": spec.challenge,
            "Key Type": "RSA",
            "Keysize": 2048,
            "Key Usage": KEY_USAGE_SIGN_AND_ENCRYPT,
            "KeyIsExtractable": False,
            "Retries": 3,
            "RetryDelay": 10,
        },
    }


def _mdm_payload(spec: EnrollmentProfileSpec, identity_uuid: str) -> dict[str, Any]:
    return {
        "PayloadType": "com.apple.mdm",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{spec.identifier}.mdm",
        "PayloadUUID": _new_uuid(),
        "PayloadDisplayName": "Device management",
        "IdentityCertificateUUID": identity_uuid,
        "Topic": spec.topic,
        "ServerURL": spec.server_url,
        "CheckInURL": spec.checkin_url,
        "SignMessage": True,
        "CheckOutWhenRemoved": True,
        "AccessRights": ALL_ACCESS_RIGHTS,
        # Trellis keeps a Mac's bootstrap token (SetBootstrapToken) and hands
        # it back (GetBootstrapToken).
        "ServerCapabilities": ["com.apple.mdm.bootstraptoken"],
    }


def _new_uuid() -> str:
    return str(uuid.uuid4()).upper()
