"""Just enough BER to read what SCEP clients really send.

Devices and SCEP libraries send CMS in BER: indefinite lengths, and octet
strings split into constructed chunks, sometimes under an implicit tag (the
encrypted content of EnvelopedData). asn1crypto reads some of these forms
but not all, so a structure it refuses is rewritten here in DER form first.
"""

from dataclasses import dataclass, field

# Universal string types that BER allows in constructed (chunked) form.
_STRING_TAGS = frozenset({0x04, 0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A, 0x1E})
MAX_DEPTH = 64


class BERError(ValueError):
    """The bytes are not well-formed BER."""


@dataclass
class Node:
    """One TLV: its identifier octets and either its content or its children."""

    identifier: bytes
    content: bytes = b""
    children: list["Node"] = field(default_factory=list)

    @property
    def constructed(self) -> bool:
        return bool(self.identifier[0] & 0x20)

    @property
    def tag_class(self) -> int:
        return self.identifier[0] >> 6

    @property
    def tag_number(self) -> int:
        return self.identifier[0] & 0x1F


def parse(data: bytes) -> Node:
    """Parse one complete TLV, descending into every constructed value."""
    node, end = _parse(data, 0, 0)
    if end != len(data):
        raise BERError("trailing bytes after the value")
    return node


def encode(node: Node) -> bytes:
    """Encode a node with definite, minimal lengths."""
    if node.constructed:
        content = b"".join(encode(child) for child in node.children)
    else:
        content = node.content
    return node.identifier + _length(len(content)) + content


def to_der(data: bytes) -> bytes:
    """Rewrite BER with definite lengths and universal strings unchunked."""
    return encode(_unchunk_universal(parse(data)))


def flatten(node: Node) -> Node:
    """Make a constructed string primitive, keeping its tag and class."""
    if not node.constructed:
        return node
    identifier = bytes([node.identifier[0] & ~0x20]) + node.identifier[1:]
    return Node(identifier, content=_chunks(node))


def enveloped_to_der(data: bytes) -> bytes:
    """Rewrite ContentInfo(EnvelopedData) in DER, unchunking its encrypted content.

    The encrypted content is ``[0] IMPLICIT OCTET STRING``: its chunked form
    is a constructed ``[0]`` that only this structure's schema identifies.
    """
    root = _unchunk_universal(parse(data))
    try:
        enveloped = root.children[1].children[0]
        encrypted_info = next(
            child
            for child in enveloped.children
            if child.identifier == b"\x30" and len(child.children) >= 2
        )
    except (IndexError, StopIteration) as exc:
        raise BERError("not ContentInfo(EnvelopedData)") from exc
    for index, child in enumerate(encrypted_info.children):
        if child.tag_class == 2 and child.tag_number == 0:
            encrypted_info.children[index] = flatten(child)
    return encode(root)


def _parse(data: bytes, offset: int, depth: int) -> tuple[Node, int]:
    if depth > MAX_DEPTH:
        raise BERError("nested too deeply")
    identifier, offset = _identifier(data, offset)
    length, offset = _read_length(data, offset)
    constructed = bool(identifier[0] & 0x20)
    if length is None:
        if not constructed:
            raise BERError("indefinite length on a primitive value")
        children: list[Node] = []
        while True:
            if data[offset : offset + 2] == b"\x00\x00":
                return Node(identifier, children=children), offset + 2
            if offset >= len(data):
                raise BERError("missing end-of-contents")
            child, offset = _parse(data, offset, depth + 1)
            children.append(child)
    end = offset + length
    if end > len(data):
        raise BERError("length runs past the end")
    if not constructed:
        return Node(identifier, content=data[offset:end]), end
    children = []
    while offset < end:
        child, offset = _parse(data, offset, depth + 1)
        children.append(child)
    if offset != end:
        raise BERError("children overrun their parent")
    return Node(identifier, children=children), end


def _identifier(data: bytes, offset: int) -> tuple[bytes, int]:
    if offset >= len(data):
        raise BERError("truncated identifier")
    start = offset
    if data[offset] & 0x1F == 0x1F:
        offset += 1
        while offset < len(data) and data[offset] & 0x80:
            offset += 1
        if offset >= len(data):
            raise BERError("truncated identifier")
    return data[start : offset + 1], offset + 1


def _read_length(data: bytes, offset: int) -> tuple[int | None, int]:
    if offset >= len(data):
        raise BERError("truncated length")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    if first == 0x80:
        return None, offset
    count = first & 0x7F
    if count > 4 or offset + count > len(data):
        raise BERError("unsupported or truncated length")
    return int.from_bytes(data[offset : offset + count], "big"), offset + count


def _length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _chunks(node: Node) -> bytes:
    if not node.constructed:
        return node.content
    return b"".join(_chunks(child) for child in node.children)


def _unchunk_universal(node: Node) -> Node:
    if not node.constructed:
        return node
    if node.tag_class == 0 and node.tag_number in _STRING_TAGS:
        return flatten(node)
    node.children = [_unchunk_universal(child) for child in node.children]
    return node
