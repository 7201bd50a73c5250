"""Re-encode DER as the BER devices send: indefinite lengths, chunked strings."""

from trellis.pki.ber import Node, encode, parse

CHUNK = 64


def to_indefinite_ber(der: bytes) -> bytes:
    """Every constructed value with an indefinite length; long octet strings chunked."""
    return _encode(parse(der))


def _encode(node: Node) -> bytes:
    if node.constructed:
        inner = b"".join(_encode(child) for child in node.children)
        return node.identifier + b"\x80" + inner + b"\x00\x00"
    octet_string = node.identifier == b"\x04"
    implicit_zero = node.identifier == b"\x80"  # EnvelopedData's encryptedContent
    if (octet_string or implicit_zero) and len(node.content) > CHUNK:
        chunks = [
            encode(Node(b"\x04", content=node.content[i : i + CHUNK]))
            for i in range(0, len(node.content), CHUNK)
        ]
        identifier = bytes([node.identifier[0] | 0x20])
        return identifier + b"\x80" + b"".join(chunks) + b"\x00\x00"
    return encode(node)
