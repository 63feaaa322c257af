"""Refuse requests to private, loopback, link-local and reserved addresses (SSRF guard).

Feeds and pages can point anywhere, including a cloud metadata endpoint. The host is resolved
here, before the request reaches the downloader, and every address it resolves to must be
public unless ``NETGUARD_ALLOW`` lists it.

Settings:
    NETGUARD_ENABLED (bool, default True)
    NETGUARD_ALLOW (list of IP addresses or CIDR networks, default []): allowed anyway,
        e.g. ``["127.0.0.1"]`` for the local fixture web.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(IgnoreRequest):
    """The request's host is, or resolves to, a non-public address."""


def is_public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


async def resolve(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class PrivateAddressGuard:
    def __init__(self, crawler: Crawler, allowed: list[Network]) -> None:
        self.crawler = crawler
        self.allowed = allowed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        if not crawler.settings.getbool("NETGUARD_ENABLED", True):
            raise NotConfigured
        allowed = [ipaddress.ip_network(entry, strict=False)
                   for entry in crawler.settings.getlist("NETGUARD_ALLOW")]
        return cls(crawler, allowed)

    def _allowed(self, address: Address) -> bool:
        return is_public(address) or any(address in network for network in self.allowed)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url).hostname
        if not host or request.url.startswith(("data:", "file:")):
            return None
        try:
            addresses = await resolve(host)
        except OSError:
            return None  # the downloader reports the DNS failure itself
        refused = [str(a) for a in addresses if not self._allowed(a)]
        if refused:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("digestcrawl/refused/private_address")
            logger.warning("Refused %s: %s resolves to non-public address %s (see NETGUARD_ALLOW)",
                           request.url, host, ", ".join(refused))
            raise RefusedAddress(f"non-public address {', '.join(refused)}")
        return None
