"""Untrusted profiles into the library's reader: only ProfileError may come out.

Two kinds of input: real and built profiles with a few byte edits (flips,
cuts, insertions), and well-formed property lists whose keys are given
random values, so the fuzzing reaches the checks behind the parser.
"""

import os
import plistlib
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED
from tests.support.fuzz import mutated
from tests.support.profiles import make_profile, payload, profile_dict, sign_profile
from trellis.library.profiles import ProfileError, read_profile

EXAMPLES = int(os.environ.get("TRELLIS_FUZZ_EXAMPLES", "300"))
BUDGET = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_FIXTURES = SHARED / "fixtures" / "profiles"
_SHARED_SEEDS = [
    _FIXTURES / "valid" / "BlockAirDrop__BlockAirDrop.mobileconfig",
    _FIXTURES / "valid" / "EnableFullDiskAccessforSSH__EnableFullDiskAccessforSSH"
    ".mobileconfig",
    _FIXTURES / "variants" / "BlockAirDrop.binary.mobileconfig",
    _FIXTURES / "variants" / "BlockAirDrop.signed.mobileconfig",
]

# Built seeds keep the fuzzing meaningful where the shared fixtures are absent.
SEEDS = [
    make_profile(),
    make_profile(binary=True),
    sign_profile(make_profile("com.example.signed")),
    *(path.read_bytes() for path in _SHARED_SEEDS if path.is_file()),
]

PLIST_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=40),
        st.binary(max_size=20),
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
        st.sampled_from(["Configuration", "System", "User", "com.apple.mdm"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)

TOP_LEVEL_KEYS = st.sampled_from(
    [
        "PayloadType",
        "PayloadVersion",
        "PayloadIdentifier",
        "PayloadUUID",
        "PayloadContent",
        "PayloadScope",
        "PayloadRemovalDisallowed",
        "PayloadDisplayName",
        "IsEncrypted",
        "TargetDeviceType",
    ]
)
PAYLOAD_KEYS = st.sampled_from(
    ["PayloadType", "PayloadVersion", "PayloadIdentifier", "PayloadUUID", "Payload"]
)


def _read(data: bytes) -> None:
    try:
        profile = read_profile(data)
    except ProfileError:
        return
    assert profile.content == data


@BUDGET
@given(st.sampled_from(SEEDS).flatmap(mutated))
def test_mutated_profiles(data: bytes) -> None:
    _read(data)


@BUDGET
@given(
    st.dictionaries(TOP_LEVEL_KEYS, PLIST_VALUES, max_size=3),
    st.dictionaries(PAYLOAD_KEYS, PLIST_VALUES, max_size=3),
    st.booleans(),
)
def test_profiles_with_random_values(
    top_changes: dict[str, Any], payload_changes: dict[str, Any], binary: bool
) -> None:
    inner = {**payload(), **payload_changes}
    top = {**profile_dict(payloads=[inner]), **top_changes}
    fmt = plistlib.FMT_BINARY if binary else plistlib.FMT_XML
    try:
        data = plistlib.dumps(_without_none(top), fmt=fmt)
    except (TypeError, ValueError, OverflowError):
        return  # not every random structure can be written as a plist
    _read(data)


def _without_none(value: Any) -> Any:
    """Drop None, which plists cannot hold: a key given None is left out."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value
