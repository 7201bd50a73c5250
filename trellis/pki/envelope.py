"""CMS (RFC 5652) EnvelopedData: encrypting for one RSA recipient, and decrypting.

SCEP wraps every request and answer in EnvelopedData. Clients really use
AES-128/256-CBC, triple DES and, on old devices, single DES; all are read,
and an answer goes back in the cipher the client chose.
"""

import os

from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from trellis.pki import ber
from trellis.pki.cms import (
    CMSError,
    asn1_certificate,
    content_info,
    issuer_and_serial,
    octets,
    read_lenient,
)

# Content ciphers accepted, by asn1crypto's name: key length and block size.
CIPHERS: dict[str, tuple[int, int]] = {
    "aes128_cbc": (16, 16),
    "aes192_cbc": (24, 16),
    "aes256_cbc": (32, 16),
    "tripledes_3key": (24, 8),
    "des": (8, 8),
}


def encrypt_enveloped(
    content: bytes, recipient: x509.Certificate, cipher_name: str = "aes256_cbc"
) -> bytes:
    """Encrypt content for one RSA recipient as DER EnvelopedData."""
    public_key = recipient.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CMSError("the recipient key must be RSA")
    key_length, block = CIPHERS[cipher_name]
    content_key = os.urandom(key_length)
    iv = os.urandom(block)
    encryptor = _cbc(cipher_name, content_key, iv).encryptor()
    padder = padding.PKCS7(block * 8).padder()
    ciphertext = encryptor.update(padder.update(content) + padder.finalize())
    ciphertext += encryptor.finalize()

    recipient_info = cms.KeyTransRecipientInfo(
        {
            "version": "v0",
            "rid": {
                "issuer_and_serial_number": issuer_and_serial(
                    asn1_certificate(recipient)
                )
            },
            "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
            "encrypted_key": public_key.encrypt(content_key, asym_padding.PKCS1v15()),
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
    return read_lenient(
        der,
        ber.enveloped_to_der,
        lambda d: _decrypt(content_info(d, "enveloped_data"), certificate, key),
    )


def _decrypt(
    enveloped: cms.EnvelopedData, certificate: x509.Certificate, key: rsa.RSAPrivateKey
) -> tuple[bytes, str]:
    encrypted_key = _encrypted_key_for(enveloped["recipient_infos"], certificate)
    try:
        content_key = key.decrypt(encrypted_key, asym_padding.PKCS1v15())
    except ValueError as exc:
        raise CMSError("the content key does not decrypt") from exc

    encrypted_info = enveloped["encrypted_content_info"]
    algorithm = encrypted_info["content_encryption_algorithm"]
    cipher_name = algorithm["algorithm"].native
    if cipher_name not in CIPHERS:
        raise CMSError(f"unsupported content cipher {cipher_name}")
    key_length, block = CIPHERS[cipher_name]
    iv = algorithm["parameters"].native
    if len(content_key) != key_length or not isinstance(iv, bytes) or len(iv) != block:
        raise CMSError("content key or IV has the wrong length")
    ciphertext = octets(encrypted_info["encrypted_content"])
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


def _cbc(cipher_name: str, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    if cipher_name == "des":
        # Single DES is triple DES with the same key three times.
        return Cipher(TripleDES(key * 3), modes.CBC(iv))
    if cipher_name == "tripledes_3key":
        return Cipher(TripleDES(key), modes.CBC(iv))
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _encrypted_key_for(
    recipient_infos: cms.RecipientInfos, certificate: x509.Certificate
) -> bytes:
    ours = asn1_certificate(certificate)
    for recipient in recipient_infos:
        if recipient.name != "ktri":
            continue
        ktri = recipient.chosen
        rid = ktri["rid"]
        if rid.name == "issuer_and_serial_number":
            matches = (
                rid.chosen["serial_number"].native == ours.serial_number
                and rid.chosen["issuer"].dump() == ours.issuer.dump()
            )
        else:
            matches = rid.chosen.native == ours.key_identifier
        if matches:
            if ktri["key_encryption_algorithm"]["algorithm"].native != "rsaes_pkcs1v15":
                raise CMSError("unsupported key transport algorithm")
            return bytes(ktri["encrypted_key"].native)
    raise CMSError("the message is not encrypted for this certificate")
