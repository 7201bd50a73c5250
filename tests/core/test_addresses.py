import ipaddress

import pytest
from django.test import RequestFactory, override_settings

from trellis.core.addresses import client_address, forwarded_client, parse_address

PROXIES = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("2001:db8:ffff::/48"),
)


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/enroll", **extra)


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    request = _request("198.51.100.7", "203.0.113.1")
    assert client_address(request) == "198.51.100.7"


@override_settings(TRELLIS_TRUSTED_PROXIES=PROXIES)
def test_a_client_cannot_forge_its_address_to_a_trusted_proxy() -> None:
    # The client wrote 203.0.113.1; the proxy appended what it saw.
    request = _request("10.0.0.2", "203.0.113.1, 198.51.100.7")
    assert client_address(request) == "198.51.100.7"


@override_settings(TRELLIS_TRUSTED_PROXIES=PROXIES)
def test_chains_of_trusted_proxies_are_walked_from_the_right() -> None:
    request = _request("10.0.0.2", "198.51.100.7, 10.1.2.3,10.9.9.9")
    assert client_address(request) == "198.51.100.7"


@override_settings(TRELLIS_TRUSTED_PROXIES=PROXIES)
def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    request = _request("198.51.100.7", "10.0.0.5")
    assert client_address(request) == "198.51.100.7"


@override_settings(TRELLIS_TRUSTED_PROXIES=PROXIES)
def test_a_trusted_proxy_without_the_header_is_the_client() -> None:
    assert client_address(_request("10.0.0.2")) == "10.0.0.2"


@override_settings(TRELLIS_TRUSTED_PROXIES=PROXIES)
def test_garbage_from_a_trusted_hop_stops_the_walk() -> None:
    request = _request("10.0.0.2", "198.51.100.7, not-an-address, 10.0.0.3")
    assert client_address(request) == "10.0.0.3"


@override_settings(TRELLIS_TRUSTED_PROXIES=PROXIES)
def test_ipv6_proxies_and_ports() -> None:
    request = _request("2001:db8:ffff::1", "[2001:db8:1::7]:4711")
    assert client_address(request) == "2001:db8:1::7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7:443 ", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:80", "2001:db8::1"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", None),
        ("unknown", None),
        ("198.51.100.300", None),
    ],
)
def test_parse_address(text: str, expected: str | None) -> None:
    parsed = parse_address(text)
    assert (str(parsed) if parsed else None) == expected


def test_everything_trusted_answers_the_left_most_hop() -> None:
    remote = ipaddress.ip_address("10.0.0.1")
    assert str(forwarded_client(remote, ["10.0.0.9", "10.0.0.8"], PROXIES)) == (
        "10.0.0.9"
    )
