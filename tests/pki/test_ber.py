import pytest

from trellis.pki import ber


def test_indefinite_lengths_become_definite() -> None:
    # SEQUENCE (indefinite) { INTEGER 5 } end-of-contents
    assert ber.to_der(bytes.fromhex("3080020105" + "0000")) == bytes.fromhex(
        "3003020105"
    )


def test_chunked_octet_string_is_joined() -> None:
    chunked = bytes.fromhex("2480" + "04026162" + "040163" + "0000")
    assert ber.to_der(chunked) == bytes.fromhex("0403616263")


def test_flatten_keeps_an_implicit_tag() -> None:
    node = ber.parse(bytes.fromhex("a0080403616263040164"))
    assert ber.encode(ber.flatten(node)) == bytes.fromhex("800461626364")


@pytest.mark.parametrize(
    "broken",
    ["30", "3005020105", "0480", "3080020105", "30840000000102"],
    ids=["truncated", "short", "primitive-indefinite", "no-end", "overlong"],
)
def test_malformed_input_is_refused(broken: str) -> None:
    with pytest.raises(ber.BERError):
        ber.parse(bytes.fromhex(broken))


def test_deep_nesting_is_refused() -> None:
    nested = bytes.fromhex("3080" * 100 + "0000" * 100)
    with pytest.raises(ber.BERError, match="deeply"):
        ber.parse(nested)
