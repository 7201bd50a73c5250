import pytest

from trellis.mdm.protocol import device_family


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
