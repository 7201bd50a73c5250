import math

import pytest

from trellis.blueprints import codes


def test_codes_use_only_the_unambiguous_alphabet() -> None:
    drawn = {codes.generate_code() for _ in range(200)}

    assert len(drawn) == 200
    for code in drawn:
        assert len(code) == codes.CODE_LENGTH
        assert set(code) <= set(codes.ALPHABET)
    assert not set("01OIL") & set(codes.ALPHABET)


def test_entropy_is_what_the_documentation_states() -> None:
    assert pytest.approx(12 * math.log2(31)) == codes.ENTROPY_BITS
    assert codes.ENTROPY_BITS > 59


@pytest.mark.parametrize(
    "typed",
    ["abcd-efgh-jkmn", "ABCD EFGH JKMN", " abcdefghjkmn ", "AbCd\u2013EfGh\u2013JkMn"],
)
def test_entry_ignores_case_spaces_and_dashes(typed: str) -> None:
    assert codes.normalize_code(typed) == "ABCDEFGHJKMN"


def test_printed_form_groups_by_four() -> None:
    assert codes.format_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"
