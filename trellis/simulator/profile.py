"""Reading an enrollment profile the way a device does."""

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from trellis.core.plists import PlistError, load_plist
from trellis.pki.cms import verify_signed_data

_SUBJECT_OIDS = {
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "CN": NameOID.COMMON_NAME,
}


class ProfileError(ValueError):
    """The file is not an enrollment profile a device could install."""


@dataclass(frozen=True)
class EnrollmentProfile:
    """What a device takes from an enrollment profile."""

    scep_url: str
    challenge: str
    subject: x509.Name
    key_size: int
    server_url: str
    checkin_url: str
    topic: str
    sign_message: bool
    identity_payload_uuid: str
    signed: bool


def read_enrollment_profile(data: bytes) -> EnrollmentProfile:
    """Read a signed or unsigned enrollment profile."""
    signed = not data.lstrip().startswith(
        (b"<?xml", b"<!DOCTYPE", b"<plist", b"bplist")
    )
    if signed:
        try:
            data = verify_signed_data(data).content or b""
        except ValueError as exc:
            raise ProfileError(f"the signed profile does not verify: {exc}") from exc
    try:
        profile = load_plist(data)
    except PlistError as exc:
        raise ProfileError(f"the profile is {exc}") from exc
    if not isinstance(profile, dict) or profile.get("PayloadType") != "Configuration":
        raise ProfileError("not a Configuration profile")

    payloads = {p.get("PayloadType"): p for p in profile.get("PayloadContent", [])}
    scep, mdm = payloads.get("com.apple.security.scep"), payloads.get("com.apple.mdm")
    if scep is None or mdm is None:
        raise ProfileError("the profile lacks a SCEP or an MDM payload")
    if mdm.get("IdentityCertificateUUID") != scep.get("PayloadUUID"):
        raise ProfileError("the MDM payload's identity is not the SCEP payload")
    content: dict[str, Any] = scep["PayloadContent"]
    return EnrollmentProfile(
        scep_url=content["URL"],
        challenge=content.get("Challenge", ""),
        subject=_subject(content.get("Subject", [])),
        key_size=int(content.get("Keysize", 2048)),
        server_url=mdm["ServerURL"],
        checkin_url=mdm.get("CheckInURL", mdm["ServerURL"]),
        topic=mdm["Topic"],
        sign_message=bool(mdm.get("SignMessage", False)),
        identity_payload_uuid=scep["PayloadUUID"],
        signed=signed,
    )


def _subject(rdns: list[list[list[str]]]) -> x509.Name:
    attributes = []
    for rdn in rdns:
        for key, value in rdn:
            oid = _SUBJECT_OIDS.get(key) or x509.ObjectIdentifier(key)
            attributes.append(x509.NameAttribute(oid, value))
    return x509.Name(attributes)
