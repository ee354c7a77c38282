"""The client's address when the service runs behind proxies: ``X-Forwarded-For`` is believed
only from the proxies named in ``QA_TRUSTED_PROXIES`` (none by default).

Anyone can send the header, so believing it from anyone lets a client pick its own rate-limit
bucket and write any address into the logs. The chain is read from the right, the end nearest
this server: each trusted proxy vouches for the address before it, and the first address that
is not a trusted proxy is the client. ``qa serve`` turns uvicorn's own handling of the header
off (it trusts 127.0.0.1 by default), so this is the one place it is read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Sequence[str]) -> list[Network]:
    """Addresses and networks (``10.0.0.7``, ``10.0.0.0/8``, ``fd00::/8``); ValueError names a bad
    one, so a typo in the setting stops the server instead of trusting nobody unannounced."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ValueError(
                f"QA_TRUSTED_PROXIES: {entry!r} is not an address or network"
            ) from error
    return networks


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:8080
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:8080
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, then the chain's first
    address from the right that is not one (an unreadable entry ends the chain there)."""
    client = _address(peer)
    if client is None or not _is_trusted(client, trusted):
        return peer
    chain = [part for header in forwarded_for for part in header.split(",") if part.strip()]
    for entry in reversed(chain):
        hop = _address(entry)
        if hop is None:
            break
        client = hop
        if not _is_trusted(hop, trusted):
            break
    return str(client)


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
    return any(
        address in network or (mapped is not None and mapped in network) for network in trusted
    )


class TrustedProxyMiddleware:
    """Puts the forwarded client's address in the scope, for the rate limit and the logs."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = list(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client:
            forwarded = [
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == b"x-forwarded-for"
            ]
            if forwarded:
                address = forwarded_client(client[0], forwarded, self.trusted)
                if address != client[0]:
                    scope = {**scope, "client": (address, 0)}
        await self.app(scope, receive, send)
