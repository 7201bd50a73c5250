"""Untrusted bytes into every parser: only the parser's own error may come out.

Each property starts from a valid message and mutates it (flips, cuts,
insertions), so the fuzzing reaches deep into the structure instead of
stopping at the first byte.
"""

import contextlib
import os
import plistlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.certificates import foreign_authority, rsa_key
from tests.support.fuzz import mutated
from trellis.core.plists import PlistError, load_plist
from trellis.mdm.protocol import MessageError, read_checkin, read_connect
from trellis.pki import ber
from trellis.pki.authority import get_authority
from trellis.pki.cms import CMSError, sign_detached, verify_signed_data
from trellis.pki.envelope import decrypt_enveloped, encrypt_enveloped
from trellis.scep.client import build_csr, build_pkcs_req
from trellis.scep.protocol import ScepError, read_certificate_request, read_pki_message

# A bounded budget for every `make test`; TRELLIS_FUZZ_EXAMPLES raises it for a
# longer hunt.
EXAMPLES = int(os.environ.get("TRELLIS_FUZZ_EXAMPLES", "300"))
BUDGET = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_KEY = rsa_key()
_CERTIFICATE = foreign_authority().issue(_KEY)
BODY = plistlib.dumps({"MessageType": "TokenUpdate", "UDID": "ABC-123", "Topic": "t"})
SIGNATURE = sign_detached(BODY, _CERTIFICATE, _KEY)


@BUDGET
@given(mutated(SIGNATURE))
def test_mdm_signatures(signature: bytes) -> None:
    with contextlib.suppress(CMSError):
        verify_signed_data(signature, BODY)


@BUDGET
@given(
    st.one_of(
        mutated(BODY),
        mutated(
            plistlib.dumps({"UDID": "A", "Status": "Idle"}, fmt=plistlib.FMT_BINARY)
        ),
        st.binary(max_size=200),
    )
)
def test_check_in_and_connect_bodies(body: bytes) -> None:
    for read in (read_checkin, read_connect):
        with contextlib.suppress(MessageError):
            read(body)


@BUDGET
@given(st.binary(max_size=300))
def test_property_lists(data: bytes) -> None:
    with contextlib.suppress(PlistError):
        load_plist(data)


def _pkcs_req() -> bytes:
    key = rsa_key()
    csr = build_csr(key, _CERTIFICATE.subject, "challenge")
    message, _ = build_pkcs_req(csr, key, get_authority().certificate)
    return message


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_scep_messages(data: st.DataObject) -> None:
    authority = get_authority()
    message = data.draw(mutated(_pkcs_req_cache()))
    try:
        request = read_pki_message(message)
        read_certificate_request(request, authority.certificate, authority.key)
    except ScepError:
        pass


@BUDGET
@given(mutated(encrypt_enveloped(b"inner request " * 20, _CERTIFICATE)))
def test_enveloped_data(enveloped: bytes) -> None:
    with contextlib.suppress(CMSError):
        decrypt_enveloped(enveloped, _CERTIFICATE, _KEY)


@BUDGET
@given(st.binary(max_size=200))
def test_ber(data: bytes) -> None:
    with contextlib.suppress(ber.BERError):
        ber.to_der(data)


_cache: list[bytes] = []


def _pkcs_req_cache() -> bytes:
    if not _cache:
        _cache.append(_pkcs_req())
    return _cache[0]
