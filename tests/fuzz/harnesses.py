"""Coverage-guided fuzzing harnesses for the decoders devices reach.

Each harness feeds one input to a decoder and lets only that module's own
error type pass: anything else escaping is a bug, because the server would
answer it with a 500. ``tests/fuzz/atheris_main.py`` runs a harness under
atheris (libFuzzer); ``test_coverage_guided.py`` runs each for a bounded
time in ``make test`` and replays every input in ``regressions/``.

Signatures stop byte-level mutation at the first check, so the SCEP harness
also signs what the fuzzer made (its first byte picks how deep to start):
the attributes, or the request inside the envelope.
"""

import contextlib
import plistlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from asn1crypto import algos, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.support.certificates import foreign_authority, rsa_key
from trellis.mdm.protocol import (
    MessageError,
    device_family,
    query_responses,
    read_checkin,
    read_connect,
    text_value,
)
from trellis.pki.cms import (
    CMSError,
    sign_attached,
    sign_detached,
    sign_with_attributes,
    verify_signed_data,
)
from trellis.pki.envelope import CIPHERS, decrypt_enveloped, encrypt_enveloped
from trellis.scep.client import build_csr, build_pkcs_req, self_signed
from trellis.scep.protocol import (
    OID_MESSAGE_TYPE,
    OID_SENDER_NONCE,
    OID_TRANSACTION_ID,
    ScepError,
    challenge_password,
    read_certificate_request,
    read_pki_message,
    scep_attribute,
)


@dataclass(frozen=True)
class Harness:
    """One decoder under fuzzing: valid seeds, the call, the errors it may raise."""

    seeds: Callable[[], list[bytes]]
    run: Callable[[bytes], None]
    errors: tuple[type[Exception], ...]

    def one_input(self, data: bytes) -> None:
        """Run one input; only the decoder's own errors are expected."""
        with contextlib.suppress(*self.errors):
            self.run(data)


@dataclass(frozen=True)
class Keys:
    """A CA and a device identity, made once per process."""

    ca_certificate: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    device_certificate: x509.Certificate
    device_key: rsa.RSAPrivateKey
    signer_certificate: x509.Certificate


@cache
def keys() -> Keys:
    authority = foreign_authority()
    device_key = rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz device")])
    return Keys(
        ca_certificate=authority.certificate,
        ca_key=authority.key,
        device_certificate=authority.issue(device_key),
        device_key=device_key,
        signer_certificate=self_signed(device_key, subject),
    )


BODY = plistlib.dumps({"MessageType": "TokenUpdate", "UDID": "ABC-123", "Topic": "t"})


# CMS SignedData: Mdm-Signatures (detached), profiles and pkiMessages (attached).
# The first byte says which.


DETACHED, ATTACHED = 0, 1


def cms_seeds() -> list[bytes]:
    k = keys()
    return [
        bytes([DETACHED]) + sign_detached(BODY, k.device_certificate, k.device_key),
        bytes([ATTACHED])
        + sign_attached(BODY, k.device_certificate, k.device_key, (k.ca_certificate,)),
        bytes([ATTACHED]) + pki_message(),
    ]


def run_cms(data: bytes) -> None:
    """The first byte says whether the signature is over BODY or over its content."""
    if not data:
        return
    if data[0] % 2 == DETACHED:
        verify_signed_data(data[1:], detached_content=BODY)
    else:
        verify_signed_data(data[1:])


# CMS EnvelopedData, in every cipher SCEP clients use.


def envelope_seeds() -> list[bytes]:
    certificate = keys().ca_certificate
    return [
        encrypt_enveloped(b"a PKCS#10 request " * 8, certificate, cipher)
        for cipher in CIPHERS
    ]


def run_envelope(data: bytes) -> None:
    k = keys()
    decrypt_enveloped(data, k.ca_certificate, k.ca_key)


# SCEP pkiMessages. The first byte picks the depth: 0 the raw message, 1 the
# request inside a freshly signed envelope, 2 raw SCEP attribute values in a
# freshly signed message, 3 the CSR's signed part (CertificationRequestInfo),
# signed afresh so that its attributes are read.

RAW, INNER_REQUEST, ATTRIBUTES, REQUEST_INFO = 0, 1, 2, 3


@cache
def csr() -> x509.CertificateSigningRequest:
    k = keys()
    return build_csr(k.device_key, k.signer_certificate.subject, "challenge")


@cache
def pki_message() -> bytes:
    k = keys()
    message, _ = build_pkcs_req(csr(), k.device_key, k.ca_certificate)
    return message


def scep_seeds() -> list[bytes]:
    inner = csr().public_bytes(serialization.Encoding.DER)
    attributes = b"".join(_length_prefixed(v.dump()) for v in _valid_attributes())
    return [
        bytes([RAW]) + pki_message(),
        bytes([INNER_REQUEST]) + inner,
        bytes([ATTRIBUTES]) + attributes,
        bytes([REQUEST_INFO]) + csr().tbs_certrequest_bytes,
    ]


def run_scep(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 4, data[1:]
    if mode == RAW:
        message: bytes | None = rest
    elif mode == INNER_REQUEST:
        message = _signed_request(rest, _valid_attributes())
    elif mode == ATTRIBUTES:
        values = _attribute_values(rest)
        message = _signed_request(csr_der(), values) if values else None
    else:
        message = _signed_request(_signed_csr(rest), _valid_attributes())
    if message is None:
        return  # the fuzzer's bytes made no message: nothing to decode
    k = keys()
    request = read_pki_message(message)
    csr, _ = read_certificate_request(request, k.ca_certificate, k.ca_key)
    challenge_password(csr)


@cache
def csr_der() -> bytes:
    return csr().public_bytes(serialization.Encoding.DER)


def _valid_attributes() -> list[core.Asn1Value]:
    return [
        core.PrintableString("19"),
        core.PrintableString("ABCDEF0123"),
        core.OctetString(b"\x01" * 16),
    ]


def _signed_request(inner: bytes, values: list[core.Asn1Value]) -> bytes | None:
    """A pkiMessage signed by the device around these parts, or None if unbuildable."""
    k = keys()
    oids = (OID_MESSAGE_TYPE, OID_TRANSACTION_ID, OID_SENDER_NONCE)
    try:
        attributes = [
            scep_attribute(oid, value) for oid, value in zip(oids, values, strict=False)
        ]
        envelope = encrypt_enveloped(inner, k.ca_certificate, "aes128_cbc")
        return sign_with_attributes(
            envelope, k.signer_certificate, k.device_key, "sha256", attributes
        )
    except Exception:  # the harness could not build it: not the decoder's fault
        return None


def _signed_csr(request_info: bytes) -> bytes:
    """A PKCS#10 request around these bytes, signed by the device's key."""
    signature = keys().device_key.sign(
        request_info, padding.PKCS1v15(), hashes.SHA256()
    )
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}).dump()
    bits = _der(0x03, b"\x00" + signature)
    return _der(0x30, request_info + algorithm + bits)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def _length_prefixed(value: bytes) -> bytes:
    return bytes([len(value) & 0xFF]) + value


def _attribute_values(data: bytes) -> list[core.Asn1Value] | None:
    """Up to three DER values, each preceded by its length in one byte."""
    values: list[core.Asn1Value] = []
    while data and len(values) < 3:
        size, data = data[0], data[1:]
        raw, data = data[:size], data[size:]
        try:
            value = core.Asn1Value.load(raw, strict=True)
            value.dump()
        except Exception:  # not a value the harness can send: no input
            return None
        values.append(value)
    return values


# Check-in and connect bodies, XML and binary.


def checkin_seeds() -> list[bytes]:
    messages = [
        {
            "MessageType": "Authenticate",
            "UDID": "00008030-000A2D8E3C47802E",
            "Topic": "com.apple.mgmt.External.x",
            "SerialNumber": "C02XXXXXXXXX",
            "Model": "MacBookPro18,3",
        },
        {
            "MessageType": "TokenUpdate",
            "UDID": "ABC-123",
            "Topic": "t",
            "Token": b"\x00" * 32,
            "PushMagic": "6A1B",
            "UnlockToken": b"\x01" * 64,
        },
        {
            "UDID": "ABC-123",
            "Status": "Acknowledged",
            "CommandUUID": "2A1C0D7E-4C6B-4F55-8D4C-0E9C7A7D2B11",
            "QueryResponses": {"ProductName": "iPhone16,2", "OSVersion": "18.1"},
        },
        {"UDID": "ABC-123", "Status": "Idle", "UserID": "U-1"},
    ]
    return [
        plistlib.dumps(message, fmt=fmt)
        for message in messages
        for fmt in (plistlib.FMT_XML, plistlib.FMT_BINARY)
    ]


def run_checkin(data: bytes) -> None:
    for read in (read_checkin, read_connect):
        try:
            message = read(data)
        except MessageError:
            continue
        # What the services do next with a message, short of the database.
        responses = query_responses(message.fields)
        for value in responses.values():
            if isinstance(value, str):
                device_family(value)
        text_value(message.fields.get("PushMagic"), 255)


HARNESSES: dict[str, Harness] = {
    "cms": Harness(cms_seeds, run_cms, (CMSError,)),
    "envelope": Harness(envelope_seeds, run_envelope, (CMSError,)),
    "scep": Harness(scep_seeds, run_scep, (ScepError,)),
    "checkin": Harness(checkin_seeds, run_checkin, (MessageError,)),
}
