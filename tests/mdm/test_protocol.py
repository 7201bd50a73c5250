import pytest

from trellis.mdm.protocol import MessageError, device_family, read_checkin


@pytest.mark.parametrize(
    ("product", "model", "model_name", "family"),
    [
        ("iPhone16,2", "", "", "iphone"),
        ("iPad14,3", "J617AP", "iPad", "ipad"),
        ("Mac15,3", "Mac15,3", "MacBook Pro", "mac"),
        ("", "MacBookPro18,3", "MacBook Pro", "mac"),
        ("", "iMac21,1", "", "mac"),
        ("", "", "Mac mini", "mac"),
        ("AppleTV14,1", "", "", ""),
        ("", "", "", ""),
    ],
)
def test_device_family(product: str, model: str, model_name: str, family: str) -> None:
    assert device_family(product, model, model_name) == family


def test_an_xml_declaration_with_an_unknown_encoding_is_a_message_error() -> None:
    body = b'<?xml version="1.0" encoding="TTF-8"?><plist><dict/></plist>'
    with pytest.raises(MessageError):
        read_checkin(body)
