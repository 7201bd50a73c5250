"""The push certificate's private keys, sealed in the database.

Keys are stored encrypted (trellis.core.sealing) and decrypted only where
they are used: to open the connection to APNs, or to match a certificate
Apple signed with the key of its CSR.
"""

from django.db import transaction

from trellis.apns.models import PushCertificate, PushCertificateRequest
from trellis.core.sealing import is_plain, reseal, unseal_text

SealedRow = PushCertificate | PushCertificateRequest


def private_key_pem(row: SealedRow) -> str:
    """Decrypt the PEM private key of a push certificate or of a CSR."""
    return unseal_text(row.sealed_private_key, _describe(row))


def check_push_keys() -> int:
    """Decrypt every stored push key once; answer how many there are."""
    rows = _rows()
    for row in rows:
        private_key_pem(row)
    return len(rows)


@transaction.atomic
def reseal_push_keys(rotate: bool) -> int:
    """Seal stored push keys again under the first key; answer how many changed.

    Without ``rotate`` only plain keys are sealed; with it every key is.
    """
    changed = 0
    for row in _rows(for_update=True):
        stored = row.sealed_private_key.encode()
        if not rotate and not is_plain(stored):
            continue
        sealed = reseal(stored, _describe(row)).decode("ascii")
        type(row).objects.filter(pk=row.pk).update(sealed_private_key=sealed)
        changed += 1
    return changed


def _rows(for_update: bool = False) -> list[SealedRow]:
    certificates = PushCertificate.objects.only("pk", "sealed_private_key")
    requests = PushCertificateRequest.objects.only("pk", "sealed_private_key")
    if for_update:
        certificates = certificates.select_for_update()
        requests = requests.select_for_update()
    return [*certificates, *requests]


def _describe(row: SealedRow) -> str:
    if isinstance(row, PushCertificate):
        return f"the push certificate key (row {row.pk})"
    return f"the push CSR key (row {row.pk})"
