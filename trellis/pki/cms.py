"""CMS (RFC 5652) signing, verification and enveloping.

Pure functions over bytes and ``cryptography`` objects; no Django. ``cryptography``
signs; ``asn1crypto`` reads the structures ``cryptography`` does not expose
(signer infos, signed attributes, recipient infos) and builds the ones with
custom attributes that SCEP needs.
"""

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from trellis.pki import ber

# Digest algorithms accepted in signatures, by asn1crypto's name.
DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# Content ciphers accepted in EnvelopedData: key length and block size.
CIPHERS: dict[str, tuple[int, int]] = {
    "aes128_cbc": (16, 16),
    "aes192_cbc": (24, 16),
    "aes256_cbc": (32, 16),
    "tripledes_3key": (24, 8),
    "des": (8, 8),
}


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
    certificates: tuple[x509.Certificate, ...]


def sign_attached(
    content: bytes,
    certificate: x509.Certificate,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
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
    content: bytes,
    certificate: x509.Certificate,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
) -> bytes:
    """Sign content as DER SignedData without the content (an Mdm-Signature)."""
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256())
    )
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


def load_signed_data(der: bytes) -> cms.SignedData:
    """Parse a ContentInfo holding SignedData (BER or DER)."""
    return _load_content_info(der, "signed_data", ber.to_der)


def verify_signed_data(
    der: bytes, detached_content: bytes | None = None
) -> SignedMessage:
    """Verify a SignedData with one signer whose certificate it carries.

    Checks the message digest against the content (attached, or the detached
    content given) and the signature with the signer's public key. It does
    not judge the signer certificate: that is the caller's policy.
    """
    signed = load_signed_data(der)
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise CMSError("expected exactly one signer")
    info = infos[0]
    certificates = _certificates(signed)
    signer = _find_signer(info["sid"], certificates)

    attached = signed["encap_content_info"]["content"]
    content = detached_content
    if content is None and attached.native is not None:
        content = _octets(attached)
    if content is None:
        content = b""

    digest_name = info["digest_algorithm"]["algorithm"].native
    if digest_name not in DIGESTS:
        raise CMSError(f"unsupported digest {digest_name}")
    digest = DIGESTS[digest_name]()

    attributes: dict[str, object] = {}
    signed_attrs = info["signed_attrs"]
    if signed_attrs.native is not None and len(signed_attrs):
        attributes = _attributes(signed_attrs)
        expected = attributes.get("message_digest")
        if not isinstance(expected, bytes):
            raise SignatureError("no message digest attribute")
        if not hmac.compare_digest(expected, _hash(digest, content)):
            raise SignatureError("message digest does not match the content")
        to_verify = b"\x31" + signed_attrs.dump()[1:]
    else:
        to_verify = content

    _verify(signer, info, bytes(info["signature"].native), to_verify, digest)
    return SignedMessage(
        content=content,
        signer=signer,
        digest_algorithm=digest_name,
        signed_attributes=attributes,
        certificates=tuple(certificates),
    )


def sign_with_attributes(
    content: bytes | None,
    certificate: x509.Certificate,
    key: rsa.RSAPrivateKey,
    digest_algorithm: str,
    attributes: list[cms.CMSAttribute],
    certificates: tuple[x509.Certificate, ...] = (),
) -> bytes:
    """Build DER SignedData with extra signed attributes (SCEP's pkiMessage)."""
    digest = DIGESTS[digest_algorithm]()
    body = content if content is not None else b""
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
                {"type": "message_digest", "values": [_hash(digest, body)]}
            ),
            *attributes,
        ]
    )
    to_sign = b"\x31" + signed_attrs.dump()[1:]
    signature = key.sign(to_sign, asym_padding.PKCS1v15(), digest)
    asn1_cert = asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {
                            "issuer": asn1_cert.issuer,
                            "serial_number": asn1_cert.serial_number,
                        }
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pkcs1v15"}
            ),
            "signature": signature,
        }
    )
    encap: dict[str, object] = {"content_type": "data"}
    if content is not None:
        encap["content"] = content
    all_certs = [certificate, *certificates]
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [
                algos.DigestAlgorithm({"algorithm": digest_algorithm})
            ],
            "encap_content_info": encap,
            "certificates": [
                asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                for c in all_certs
            ],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def encrypt_enveloped(
    content: bytes, recipient: x509.Certificate, cipher_name: str = "aes256_cbc"
) -> bytes:
    """Encrypt content for one RSA recipient as DER EnvelopedData."""
    key_length, block = CIPHERS[cipher_name]
    content_key = os.urandom(key_length)
    iv = os.urandom(block)
    encrypted = _cbc(cipher_name, content_key, iv).encryptor()
    padder = padding.PKCS7(block * 8).padder()
    ciphertext = encrypted.update(padder.update(content) + padder.finalize())
    ciphertext += encrypted.finalize()

    public_key = recipient.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CMSError("the recipient key must be RSA")
    encrypted_key = public_key.encrypt(content_key, asym_padding.PKCS1v15())
    asn1_cert = asn1_x509.Certificate.load(
        recipient.public_bytes(serialization.Encoding.DER)
    )
    recipient_info = cms.KeyTransRecipientInfo(
        {
            "version": "v0",
            "rid": cms.RecipientIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {
                            "issuer": asn1_cert.issuer,
                            "serial_number": asn1_cert.serial_number,
                        }
                    )
                }
            ),
            "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
            "encrypted_key": encrypted_key,
        }
    )
    enveloped = cms.EnvelopedData(
        {
            "version": "v0",
            "recipient_infos": [cms.RecipientInfo({"ktri": recipient_info})],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {
                    "algorithm": cipher_name,
                    "parameters": core.OctetString(iv),
                },
                "encrypted_content": ciphertext,
            },
        }
    )
    return cms.ContentInfo(
        {"content_type": "enveloped_data", "content": enveloped}
    ).dump()


def decrypt_enveloped(
    der: bytes, certificate: x509.Certificate, key: rsa.RSAPrivateKey
) -> tuple[bytes, str]:
    """Decrypt EnvelopedData addressed to this certificate.

    Answer the content and the name of the cipher it was encrypted with.
    """
    enveloped = _load_content_info(der, "enveloped_data", ber.enveloped_to_der)

    encrypted_key = _encrypted_key_for(enveloped["recipient_infos"], certificate)
    try:
        content_key = key.decrypt(encrypted_key, asym_padding.PKCS1v15())
    except ValueError as exc:
        raise CMSError("the content key does not decrypt") from exc

    content_info = enveloped["encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    cipher_name = algorithm["algorithm"].native
    if cipher_name not in CIPHERS:
        raise CMSError(f"unsupported content cipher {cipher_name}")
    key_length, block = CIPHERS[cipher_name]
    iv = algorithm["parameters"].native
    if len(content_key) != key_length or not isinstance(iv, bytes) or len(iv) != block:
        raise CMSError("content key or IV has the wrong length")
    ciphertext = _octets(content_info["encrypted_content"])
    if not ciphertext or len(ciphertext) % block:
        raise CMSError("encrypted content is not whole blocks")
    decryptor = _cbc(cipher_name, content_key, iv).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(block * 8).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise CMSError("bad padding in encrypted content") from exc
    return plain, cipher_name


def certificates_only(der: bytes) -> list[x509.Certificate]:
    """Read the certificates of a degenerate (certificates-only) SignedData."""
    return _certificates(load_signed_data(der))


def _load_content_info(
    der: bytes, content_type: str, normalize: Callable[[bytes], bytes]
) -> Any:
    """Parse ContentInfo of the given type, rewriting BER that asn1crypto refuses."""
    try:
        return _parse_content_info(der, content_type)
    except CMSError:
        raise
    except (ValueError, TypeError, KeyError) as first_error:
        try:
            return _parse_content_info(normalize(der), content_type)
        except (ValueError, TypeError, KeyError) as exc:
            raise CMSError(f"unreadable {content_type}: {first_error}") from exc


def _parse_content_info(der: bytes, content_type: str) -> Any:
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != content_type:
        raise CMSError(f"not {content_type}")
    content = info["content"]
    _ = content.native  # parse the whole tree now, so later access cannot fail
    return content


def _cbc(cipher_name: str, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    if cipher_name == "des":
        # Single DES is triple DES with the same key three times.
        return Cipher(TripleDES(key * 3), modes.CBC(iv))
    if cipher_name == "tripledes_3key":
        return Cipher(TripleDES(key), modes.CBC(iv))
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _hash(digest: hashes.HashAlgorithm, content: bytes) -> bytes:
    hasher = hashes.Hash(digest)
    hasher.update(content)
    return hasher.finalize()


def _octets(value: core.Asn1Value) -> bytes:
    """Bytes of an OCTET STRING, including BER's constructed, chunked form."""
    native = value.native
    if isinstance(native, bytes):
        return native
    if isinstance(value, core.ParsableOctetString):
        return bytes(value.contents)
    raise CMSError("content is not an OCTET STRING")


def _certificates(signed: cms.SignedData) -> list[x509.Certificate]:
    result = []
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        try:
            result.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError as exc:
            raise CMSError("unreadable certificate in SignedData") from exc
    return result


def _find_signer(
    sid: cms.SignerIdentifier, certificates: list[x509.Certificate]
) -> x509.Certificate:
    if sid.name == "issuer_and_serial_number":
        serial = sid.chosen["serial_number"].native
        issuer = sid.chosen["issuer"].dump()
        for cert in certificates:
            asn1_cert = asn1_x509.Certificate.load(
                cert.public_bytes(serialization.Encoding.DER)
            )
            if asn1_cert.serial_number == serial and asn1_cert.issuer.dump() == issuer:
                return cert
    else:
        key_id = sid.chosen.native
        for cert in certificates:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == key_id:
                return cert
    raise CMSError("the signer's certificate is not in the message")


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


def _verify(
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
    except InvalidSignature as exc:
        raise SignatureError("the signature does not verify") from exc


def _encrypted_key_for(
    recipient_infos: cms.RecipientInfos, certificate: x509.Certificate
) -> bytes:
    asn1_cert = asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )
    for recipient in recipient_infos:
        if recipient.name != "ktri":
            continue
        ktri = recipient.chosen
        rid = ktri["rid"]
        if rid.name == "issuer_and_serial_number":
            matches = (
                rid.chosen["serial_number"].native == asn1_cert.serial_number
                and rid.chosen["issuer"].dump() == asn1_cert.issuer.dump()
            )
        else:
            matches = rid.chosen.native == asn1_cert.key_identifier
        if matches:
            if ktri["key_encryption_algorithm"]["algorithm"].native != "rsaes_pkcs1v15":
                raise CMSError("unsupported key transport algorithm")
            return bytes(ktri["encrypted_key"].native)
    raise CMSError("the message is not encrypted for this certificate")
