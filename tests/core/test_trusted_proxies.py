from ipaddress import ip_network

import pytest

from trellis.core.addresses import is_trusted_proxy
from trellis.settings import _networks


@pytest.fixture(autouse=True)
def proxies(settings) -> None:
    settings.TRELLIS_TRUSTED_PROXIES = [
        ip_network("10.0.0.0/8"),
        ip_network("192.0.2.10/32"),
        ip_network("2001:db8::/32"),
    ]


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "192.0.2.10", "2001:db8::7", "::ffff:10.9.9.9", " 10.0.0.1 "],
)
def test_addresses_inside_the_trusted_networks_are_proxies(address: str) -> None:
    assert is_trusted_proxy(address)


@pytest.mark.parametrize(
    "address",
    ["192.0.2.11", "11.0.0.1", "2001:db9::1", "::1", "", "localhost", "10.0.0.1/8"],
)
def test_other_addresses_and_non_addresses_are_not(address: str) -> None:
    assert not is_trusted_proxy(address)


def test_no_trusted_proxy_trusts_nobody(settings) -> None:
    settings.TRELLIS_TRUSTED_PROXIES = []
    assert not is_trusted_proxy("127.0.0.1")


def test_settings_read_addresses_and_networks(monkeypatch) -> None:
    monkeypatch.setenv("TRELLIS_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1,")
    assert _networks("TRELLIS_TRUSTED_PROXIES") == [
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
    ]

    monkeypatch.setenv("TRELLIS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.org")
    with pytest.raises(SystemExit, match=r"'proxy\.example\.org' is not an IP"):
        _networks("TRELLIS_TRUSTED_PROXIES")
