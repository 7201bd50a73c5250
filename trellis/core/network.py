"""Who is on the other end of the connection: proxies Trellis may believe."""

from ipaddress import IPv6Address, ip_address

from django.conf import settings


def is_trusted_proxy(address: str) -> bool:
    """Answer whether a peer address is in TRELLIS_TRUSTED_PROXIES.

    ``address`` must be the socket's peer (REMOTE_ADDR as the server saw
    it), never an address a header claims.
    """
    try:
        peer = ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(peer, IPv6Address) and peer.ipv4_mapped is not None:
        # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
        peer = peer.ipv4_mapped
    return any(peer in network for network in settings.TRELLIS_TRUSTED_PROXIES)
