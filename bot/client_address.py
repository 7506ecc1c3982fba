"""The address of the person behind a request, as a channel or the backend sees it.

A client can write any X-Forwarded-For header it likes; only a proxy we run may be
believed. So the header counts only when the peer is one of TRUSTED_PROXIES, and
then only the entries that proxies of ours appended (read from the right).
Shared by the Rasa channels, the actions and the backend, so it imports none of them.
"""
import ipaddress
from typing import Iterable, Optional, Tuple

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Where the channels put the address in a message's metadata (any value the client sent is replaced) ...
METADATA_KEY = "client_address"
# ... and the header in which the action server passes it on to the backend.
HEADER = "X-Client-Address"


def trusted_proxies(setting: Optional[str]) -> Tuple[Network, ...]:
    """TRUSTED_PROXIES: comma-separated addresses or networks (e.g. 127.0.0.1,10.0.0.0/8)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in (setting or "").split(",")
                 if item.strip())


def parse_address(value: Optional[str]) -> Optional[str]:
    """An IP address in its canonical form, or None when `value` is not one."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(peer: Optional[str], forwarded_for: Iterable[str], proxies: Tuple[Network, ...]) -> str:
    """The nearest address that is not a trusted proxy: the peer unless a trusted proxy forwarded it."""
    address = parse_address(peer) or "unknown"
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    while _is_trusted(address, proxies) and hops:
        forwarded = parse_address(hops.pop())
        if forwarded is None:
            break
        address = forwarded
    return address


def _is_trusted(address: str, proxies: Tuple[Network, ...]) -> bool:
    parsed = parse_address(address)
    return parsed is not None and any(ipaddress.ip_address(parsed) in network for network in proxies)
