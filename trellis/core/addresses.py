"""Who is on the other end: the client behind trusted proxies, and the proxies."""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: HttpRequest) -> str | None:
    """Answer the address of the client that made the request.

    REMOTE_ADDR, unless it is one of TRELLIS_TRUSTED_PROXIES: then the
    right-most address of X-Forwarded-For that is not a trusted proxy. Only
    the entries trusted proxies appended are believed; anything further left
    was written by the client and could be anything.
    """
    remote = parse_address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    trusted = settings.TRELLIS_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return str(forwarded_client(remote, forwarded.split(","), trusted))


def is_trusted_proxy(address: str) -> bool:
    """Answer whether a peer address is in TRELLIS_TRUSTED_PROXIES.

    ``address`` must be the socket's peer (REMOTE_ADDR as the server saw
    it), never an address a header claims.
    """
    peer = parse_address(address)
    return peer is not None and _is_trusted(
        peer, tuple(settings.TRELLIS_TRUSTED_PROXIES)
    )


def forwarded_client(
    remote: Address, forwarded_for: list[str], trusted: Iterable[Network]
) -> Address:
    """Walk X-Forwarded-For from the right to the first hop no trusted proxy is."""
    networks = tuple(trusted)
    client = remote
    for entry in reversed(forwarded_for):
        if not _is_trusted(client, networks):
            return client
        hop = parse_address(entry)
        if hop is None:
            # A trusted proxy would not write this: keep the last hop known.
            return client
        client = hop
    return client


def parse_address(text: str) -> Address | None:
    """Read an address as proxies write it: bare, or with a port (v6 in brackets)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)
