"""Strategies shared by the fuzz tests."""

from hypothesis import strategies as st


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """Bytes made from `seed` by a few random edits."""
    edit = st.tuples(
        st.sampled_from(["flip", "cut", "insert", "truncate"]),
        st.integers(min_value=0, max_value=max(0, len(seed) - 1)),
        st.binary(min_size=1, max_size=8),
    )

    def apply(edits: list[tuple[str, int, bytes]]) -> bytes:
        data = bytearray(seed)
        for kind, at, noise in edits:
            at = min(at, max(0, len(data) - 1))
            if kind == "flip" and data:
                data[at] ^= noise[0] or 1
            elif kind == "cut":
                del data[at : at + len(noise)]
            elif kind == "insert":
                data[at:at] = noise
            else:
                del data[at:]
        return bytes(data)

    return st.lists(edit, min_size=1, max_size=4).map(apply)
