"""CMS (RFC 5652) SignedData: signing and verifying.

Pure functions over bytes and ``cryptography`` objects; no Django.
``cryptography`` signs profiles and Mdm-Signatures; ``asn1crypto`` reads the
parts ``cryptography`` does not expose (signer infos, signed attributes) and
builds SignedData with the custom attributes SCEP needs. Structures are read
lazily: the connect hot path touches only the fields it checks.
"""

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.serialization import pkcs7

from trellis.pki import ber

# Digest algorithms accepted in signatures, by asn1crypto's name.
DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# What asn1crypto raises, lazily, on a structure it cannot read.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)

T = TypeVar("T")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CMSError(ValueError):
    """The structure is not valid CMS, or not the kind expected."""


class SignatureError(CMSError):
    """The signature does not verify."""


@dataclass(frozen=True)
class SignedMessage:
    """What a verified SignedData said and who said it."""

    content: bytes | None
    signer: x509.Certificate
    digest_algorithm: str
    signed_attributes: Mapping[str, object]


def sign_attached(
    content: bytes,
    certificate: x509.Certificate,
    key: PrivateKey,
    chain: tuple[x509.Certificate, ...] = (),
) -> bytes:
    """Sign content as DER SignedData, content attached, SHA-256."""
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256())
    )
    for extra in chain:
        builder = builder.add_certificate(extra)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def sign_detached(
    content: bytes, certificate: x509.Certificate, key: PrivateKey
) -> bytes:
    """Sign content as DER SignedData without the content (an Mdm-Signature)."""
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256())
    )
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


def verify_signed_data(
    der: bytes, detached_content: bytes | None = None
) -> SignedMessage:
    """Verify a SignedData with one signer whose certificate it carries.

    Checks the message digest against the content (attached, or the detached
    content given) and the signature with the signer's public key. It does
    not judge the signer certificate: that is the caller's policy.
    """
    return read_lenient(
        der,
        ber.to_der,
        lambda d: _verify(content_info(d, "signed_data"), detached_content),
    )


def certificates_only(der: bytes) -> list[x509.Certificate]:
    """Read the certificates of a degenerate (certificates-only) SignedData."""
    return read_lenient(
        der, ber.to_der, lambda d: _certificates(content_info(d, "signed_data"))
    )


def sign_with_attributes(
    content: bytes | None,
    certificate: x509.Certificate,
    key: PrivateKey,
    digest_algorithm: str,
    attributes: list[cms.CMSAttribute],
) -> bytes:
    """Build DER SignedData with extra signed attributes (SCEP's pkiMessage)."""
    digest = DIGESTS[digest_algorithm]()
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute(
                {
                    "type": "signing_time",
                    "values": [cms.Time({"utc_time": datetime.now(UTC)})],
                }
            ),
            cms.CMSAttribute(
                {
                    "type": "message_digest",
                    "values": [digest_of(digest, content or b"")],
                }
            ),
            *attributes,
        ]
    )
    to_sign = b"\x31" + signed_attrs.dump()[1:]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(to_sign, ec.ECDSA(digest))
        signature_algorithm = f"{digest_algorithm}_ecdsa"
    else:
        signature = key.sign(to_sign, asym_padding.PKCS1v15(), digest)
        signature_algorithm = "rsassa_pkcs1v15"
    asn1_cert = asn1_certificate(certificate)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": {"issuer_and_serial_number": issuer_and_serial(asn1_cert)},
            "digest_algorithm": {"algorithm": digest_algorithm},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": signature_algorithm},
            "signature": signature,
        }
    )
    encap: dict[str, object] = {"content_type": "data"}
    if content is not None:
        encap["content"] = content
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [
                algos.DigestAlgorithm({"algorithm": digest_algorithm})
            ],
            "encap_content_info": encap,
            "certificates": [asn1_cert],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def read_lenient(
    der: bytes, normalize: Callable[[bytes], bytes], read: Callable[[bytes], T]
) -> T:
    """Read a structure; if asn1crypto refuses its BER, read its DER rewrite instead.

    A CMSError (a bad signature, a key that does not decrypt) is final: only
    failures to parse lead to the rewrite.
    """
    try:
        return read(der)
    except CMSError:
        raise
    except _ASN1_ERRORS as first_error:
        try:
            return read(normalize(der))
        except CMSError:
            raise
        except _ASN1_ERRORS as exc:
            raise CMSError(f"unreadable CMS structure: {first_error}") from exc


def content_info(der: bytes, content_type: str) -> Any:
    """Answer the content of a ContentInfo, which must be of the given type."""
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != content_type:
        raise CMSError(f"not {content_type}")
    return info["content"]


def octets(value: core.Asn1Value) -> bytes:
    """Bytes of an OCTET STRING, including BER's constructed, chunked form."""
    native = value.native
    if isinstance(native, bytes):
        return native
    if isinstance(value, core.ParsableOctetString):
        return bytes(value.contents)
    raise CMSError("content is not an OCTET STRING")


def digest_of(digest: hashes.HashAlgorithm, content: bytes) -> bytes:
    hasher = hashes.Hash(digest)
    hasher.update(content)
    return hasher.finalize()


def asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )


def issuer_and_serial(certificate: asn1_x509.Certificate) -> cms.IssuerAndSerialNumber:
    return cms.IssuerAndSerialNumber(
        {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
    )


def _verify(signed: cms.SignedData, detached_content: bytes | None) -> SignedMessage:
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise CMSError("expected exactly one signer")
    info = infos[0]
    signer = _find_signer(info["sid"], signed)

    content = detached_content
    if content is None:
        attached = signed["encap_content_info"]["content"]
        content = b"" if isinstance(attached, core.Void) else octets(attached)

    digest_name = info["digest_algorithm"]["algorithm"].native
    if digest_name not in DIGESTS:
        raise CMSError(f"unsupported digest {digest_name}")
    digest = DIGESTS[digest_name]()

    attributes: dict[str, object] = {}
    signed_attrs = info["signed_attrs"]
    if isinstance(signed_attrs, core.Void) or not len(signed_attrs):
        to_verify = content
    else:
        attributes = _attributes(signed_attrs)
        expected = attributes.get("message_digest")
        if not isinstance(expected, bytes):
            raise SignatureError("no message digest attribute")
        if not hmac.compare_digest(expected, digest_of(digest, content)):
            raise SignatureError("message digest does not match the content")
        to_verify = b"\x31" + signed_attrs.dump()[1:]

    signature = bytes(info["signature"].native)
    try:
        _check_signature(signer, info, signature, to_verify, digest)
    except SignatureError:
        # The signature covers the DER encoding of the attributes, as a SET;
        # a sender that sent them in BER signed their DER form.
        as_der = ber.to_der(to_verify) if _has_signed_attributes(info) else to_verify
        if as_der == to_verify:
            raise
        _check_signature(signer, info, signature, as_der, digest)
    return SignedMessage(
        content=content,
        signer=signer,
        digest_algorithm=digest_name,
        signed_attributes=attributes,
    )


def _has_signed_attributes(info: cms.SignerInfo) -> bool:
    signed_attrs = info["signed_attrs"]
    return not isinstance(signed_attrs, core.Void) and bool(len(signed_attrs))


def _certificates(signed: cms.SignedData) -> list[x509.Certificate]:
    result = []
    for choice in signed["certificates"] or []:
        if choice.name == "certificate":
            result.append(_load_certificate(choice.chosen))
    return result


def _find_signer(sid: cms.SignerIdentifier, signed: cms.SignedData) -> x509.Certificate:
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        candidate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            matches = (
                candidate.serial_number == sid.chosen["serial_number"].native
                and candidate.issuer.dump() == sid.chosen["issuer"].dump()
            )
        else:
            matches = candidate.key_identifier == sid.chosen.native
        if matches:
            return _load_certificate(candidate)
    raise CMSError("the signer's certificate is not in the message")


def _load_certificate(certificate: asn1_x509.Certificate) -> x509.Certificate:
    try:
        loaded = x509.load_der_x509_certificate(certificate.dump())
        loaded.public_key()  # an unknown key type is refused here, not later
    except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
        raise CMSError("unreadable certificate in SignedData") from exc
    return loaded


def _attributes(signed_attrs: cms.CMSAttributes) -> dict[str, object]:
    result: dict[str, object] = {}
    for attribute in signed_attrs:
        values = attribute["values"]
        if len(values) != 1:
            raise CMSError("a signed attribute must have exactly one value")
        name = attribute["type"].native
        if name in result:
            raise CMSError(f"signed attribute {name} appears twice")
        result[name] = values[0].native
    return result


def _check_signature(
    signer: x509.Certificate,
    info: cms.SignerInfo,
    signature: bytes,
    data: bytes,
    digest: hashes.HashAlgorithm,
) -> None:
    public_key = signer.public_key()
    algorithm = info["signature_algorithm"]["algorithm"].native
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if algorithm == "rsassa_pss":
                pss = asym_padding.PSS(asym_padding.MGF1(digest), digest.digest_size)
                public_key.verify(signature, data, pss, digest)
            else:
                public_key.verify(signature, data, asym_padding.PKCS1v15(), digest)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(digest))
        else:
            raise SignatureError("unsupported signer key type")
    except (InvalidSignature, ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureError("the signature does not verify") from exc
