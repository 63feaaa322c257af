"""SSRF guard: only http(s) URLs, only public addresses (unless ``NETGUARD_ALLOW`` lists them).

Feeds, sitemaps and pages can point anywhere: ``file:///etc/passwd``, a cloud metadata endpoint,
the router. Four pieces share one address policy (:class:`AddressPolicy`):

* :class:`GuardedResolver` (``TWISTED_DNS_RESOLVER``) checks every DNS answer before Twisted
  connects, so the address checked is the address connected to: one lookup, no DNS-rebinding
  window. A host with any non-public answer gets no address at all.
* :class:`PrivateAddressGuard` (downloader middleware, before robots.txt) refuses other schemes,
  non-public IP literals (no DNS needed; ``127.0.0.2.`` is one too) and hosts the resolver has
  already refused. Rendered
  requests are resolved here, because Chromium resolves by itself.
* :class:`DownloadGuard` (downloader middleware, next to the downloader) refuses redirects to
  another scheme, and turns the empty answer of a refused host into :class:`RefusedAddress`, so
  it is not retried as a DNS failure.
* :class:`BrowserGuard` (``PLAYWRIGHT_ABORT_REQUEST``) aborts every request Chromium makes to
  another scheme or a non-public address. Chromium resolves the host again after our check, and
  Playwright's routing does not see redirect hops inside the browser: the browser side is a
  narrower guard than the Twisted side.

Refusals raise :class:`GuardRefusal` subclasses (``IgnoreRequest``): the spider counts them per
source as ``dropped/<reason>``; this module counts ``digestcrawl/refused/<reason>`` and logs one
line per refused request.

Settings:
    NETGUARD_ENABLED (bool): the guard on or off (the scheme checks in the spider stay on).
    NETGUARD_ALLOW (list of IP addresses or CIDR networks, or one comma-separated string):
        allowed anyway, e.g. ``["127.0.0.1"]`` for the local fixture web. An IPv4 entry also
        allows the IPv6 forms that embed it (``::ffff:127.0.0.1``).
    NETGUARD_HOST_CACHE_SIZE (int): host verdicts kept for rendered pages and Chromium's own
        requests (the resolver keeps DNSCACHE_SIZE answers).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import attr
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.resolver import HostResolution
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.misc import load_object
from twisted.internet.interfaces import IAddress, IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from digestcrawl.crawl.urls import HTTP_SCHEMES

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 prefixes: the well-known one (RFC 6052) embeds an IPv4 address in its last 32 bits; the
# local-use one (RFC 8215) is a site's own translator, never public.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# Deprecated IPv4-compatible addresses (::a.b.c.d): Python calls most of them global.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
MIN_REFUSALS_KEPT = 1000


class GuardRefusal(IgnoreRequest):
    """A request the guard refused; ``reason`` names the spider's ``dropped/<reason>`` count."""

    reason = "refused"


class RefusedAddress(GuardRefusal):
    """The request's host is, or resolves to, a non-public address."""

    reason = "refused_address"


class BadScheme(GuardRefusal):
    """The request's URL, or the Location it was redirected to, is not http(s)."""

    reason = "bad_scheme"


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped, NAT64, 6to4 or Teredo."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client; the server is the relay
    return None


def non_public(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            why = non_public(inner)
            return f"{why}: embeds {inner}" if why else None
        if address in NAT64_LOCAL:
            return "local-use NAT64"
        if address in IPV4_COMPATIBLE and not (address.is_loopback or address.is_unspecified):
            return "IPv4-compatible"
    for flag, why in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                      ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                      ("is_reserved", "reserved"), ("is_private", "private")):
        if getattr(address, flag):
            return why
    return None if address.is_global else "not global"


def parse_ip(host: str) -> Address | None:
    """``host`` as an IP address when it is a literal (zone ids dropped), else None. A trailing
    dot (``127.0.0.2.``) still makes a literal, as URL parsers read it: not a name for DNS."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0].removesuffix("."))
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be connected to."""

    enabled: bool = True
    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        # A list, or a comma-separated string (``-s``, Scrapyd, the environment): blanks ignored.
        entries = [entry.strip() for entry in settings.getlist("NETGUARD_ALLOW")]
        return cls(settings.getbool("NETGUARD_ENABLED"),
                   tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry))

    def refusal(self, address: Address) -> str | None:
        """Why connecting to ``address`` is refused, or None when it is allowed."""
        if not self.enabled:
            return None
        why = non_public(address)
        if why is None:
            return None
        inner = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
        if any(a in network for a in (address, inner) if a is not None for network in self.allowed
               if a.version == network.version):
            return None
        return f"non-public address {address} ({why})"

    def refuse_all(self, addresses: Sequence[Address]) -> str | None:
        """Why a host with these answers is refused: any refused answer refuses the host."""
        reasons = [why for why in map(self.refusal, addresses) if why]
        return ", ".join(reasons) if reasons else None


# -- the resolver --------------------------------------------------------------------------------


@implementer(IResolutionReceiver)
class _CheckingReceiver:
    """Collects a host's answers and hands them on only when the policy allows every one."""

    def __init__(self, resolver: GuardedResolver, receiver: Any, host: str, cache: bool) -> None:
        # zope interfaces are typed as Any here: mypy reads their methods without ``self``.
        self.resolver, self.receiver, self.host, self.cache = resolver, receiver, host, cache
        self.addresses: list[IAddress] = []

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.resolver._answered(self.host, self.addresses, self.cache)
        if self.resolver.refusal(self.host) is None:
            for address in self.addresses:
                self.receiver.addressResolved(address)
        # A refused host completes with no address: the endpoint fails with DNSLookupError,
        # which DownloadGuard turns into RefusedAddress.
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """A caching host-name resolver (IPv4 and IPv6) that refuses non-public answers.

    Set as ``TWISTED_DNS_RESOLVER`` (Scrapy's successor of ``DNS_RESOLVER``): Scrapy installs it
    on the reactor when it starts the process. A crawl started another way (CrawlerRunner, the
    tests) gets it from :class:`PrivateAddressGuard`, which installs it when it is missing and
    gives it its crawler's policy; the reactor has one resolver, so one allow list per process.
    DNS_TIMEOUT is not applied (like Scrapy's CachingHostnameResolver); DOWNLOAD_TIMEOUT bounds
    a slow lookup.

    Settings: NETGUARD_ENABLED, NETGUARD_ALLOW, DNSCACHE_ENABLED, DNSCACHE_SIZE.
    """

    def __init__(self, reactor: Any, policy: AddressPolicy, cache_size: int) -> None:
        self.reactor = reactor
        self.original: Any = reactor.nameResolver  # an IHostnameResolver
        self.policy = policy
        self.cache_enabled = cache_size > 0
        # Answers as resolved (port 0), and each host's refusal, if refused, under the policy;
        # refusals are kept even without a DNS cache, for DownloadGuard to recognise them.
        self._answers: LocalCache[str, list[IAddress]] = LocalCache(max(cache_size, 1))
        self._refused: LocalCache[str, str] = LocalCache(max(cache_size, MIN_REFUSALS_KEPT))

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        # ``crawler`` is the CrawlerProcess when Scrapy builds it: settings only.
        settings = crawler.settings
        size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, AddressPolicy.from_settings(settings), size)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> GuardedResolver | None:
        """The reactor's guarded resolver, installed if missing, with this crawler's policy
        (None without a Twisted reactor)."""
        if not crawler.settings.getbool("TWISTED_REACTOR_ENABLED"):
            return None
        from twisted.internet import reactor

        current = reactor.nameResolver  # type: ignore[attr-defined]
        if not isinstance(current, cls):
            current = cls.from_crawler(crawler, reactor)
            current.install_on_reactor()
        current.configure(AddressPolicy.from_settings(crawler.settings))
        return current

    def configure(self, policy: AddressPolicy) -> None:
        if policy != self.policy:
            self.policy = policy
            self._refused.clear()
            for host, answers in list(self._answers.items()):
                self._judge(host, answers)

    def refusal(self, host: str) -> str | None:
        """Why ``host`` was refused, when it has been resolved and refused (no lookup here)."""
        return self._refused.get(host)

    def _answered(self, host: str, answers: list[IAddress], cache: bool) -> None:
        if cache and answers and self.cache_enabled:
            self._answers[host] = [_with_port(a, 0) for a in answers]
        self._judge(host, answers)

    def _judge(self, host: str, answers: Sequence[IAddress]) -> None:
        addresses = [ip for ip in (parse_ip(str(getattr(a, "host", ""))) for a in answers) if ip is not None]
        why = self.policy.refuse_all(addresses)
        if why:
            self._refused[host] = why
        else:
            self._refused.pop(host, None)

    def resolveHostName(self, resolutionReceiver: Any, hostName: str,
                        portNumber: int = 0, addressTypes: Sequence[type[IAddress]] | None = None,
                        transportSemantics: str = "TCP") -> Any:
        cached = self._answers.get(hostName)
        if cached is None:
            receiver = _CheckingReceiver(self, resolutionReceiver, hostName, cache=True)
            return self.original.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)
        receiver = _CheckingReceiver(self, resolutionReceiver, hostName, cache=False)
        resolution = HostResolution(hostName)
        receiver.resolutionBegan(resolution)
        for address in cached:
            if addressTypes is None or any(isinstance(address, kind) for kind in addressTypes):
                receiver.addressResolved(_with_port(address, portNumber))
        receiver.resolutionComplete()
        return resolution


def _with_port(address: Any, port: int) -> Any:
    if getattr(address, "port", port) == port:
        return address
    return attr.evolve(address, port=port)


# -- host checks outside Twisted (Chromium) ------------------------------------------------------


class HostChecker:
    """Resolves a host ourselves and judges every answer, with a bounded verdict cache: for
    Chromium, which does its own DNS (it resolves again after us)."""

    def __init__(self, policy: AddressPolicy, cache_size: int) -> None:
        self.policy = policy
        self._verdicts: LocalCache[str, str | None] = LocalCache(max(cache_size, 1))

    async def refusal(self, url: str) -> tuple[str, str] | None:
        """``(reason, detail)`` when ``url`` must not be fetched, else None."""
        parts = urlsplit(url)
        if parts.scheme not in HTTP_SCHEMES:
            return BadScheme.reason, f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        host = parts.hostname or ""
        literal = parse_ip(host)
        if literal is not None:
            why = self.policy.refusal(literal)
        elif host in self._verdicts:
            why = self._verdicts[host]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError:
                return None  # the browser reports the DNS failure itself
            why = self.policy.refuse_all([ip for ip in (parse_ip(str(i[4][0])) for i in infos) if ip])
            self._verdicts[host] = why
        return (RefusedAddress.reason, f"{host}: {why}") if why else None


# -- downloader middlewares ----------------------------------------------------------------------


class PrivateAddressGuard:
    """Refuses, before anything is downloaded (and before robots.txt is asked): other schemes,
    non-public IP literals, hosts the resolver refused before, and rendered pages whose host is
    not public.

    Settings: NETGUARD_ENABLED, NETGUARD_ALLOW, NETGUARD_HOST_CACHE_SIZE (see the module).
    """

    def __init__(self, crawler: Crawler, policy: AddressPolicy, resolver: GuardedResolver | None) -> None:
        self.crawler = crawler
        self.policy = policy
        self.resolver = resolver
        self.browser_hosts = HostChecker(policy, crawler.settings.getint("NETGUARD_HOST_CACHE_SIZE"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        policy = AddressPolicy.from_settings(crawler.settings)
        if not policy.enabled:
            raise NotConfigured
        return cls(crawler, policy, GuardedResolver.for_crawler(crawler))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in HTTP_SCHEMES:
            raise refuse(self.crawler, BadScheme, request, f"scheme {parts.scheme!r} is not http(s)")
        host = parts.hostname or ""
        literal = parse_ip(host)
        if literal is not None:
            why = self.policy.refusal(literal)
        elif request.meta.get("playwright"):
            found = await self.browser_hosts.refusal(request.url)
            why = found[1] if found else None
        else:
            why = self.resolver.refusal(host) if self.resolver else None
            why = f"{host}: {why}" if why else None
        if why:
            raise refuse(self.crawler, RefusedAddress, request, why)
        return None


class DownloadGuard:
    """The guard's side next to the downloader (650: its responses and exceptions come before
    RedirectMiddleware's, 600, and RetryMiddleware's, 550). It refuses a redirect to another
    scheme before RedirectMiddleware builds its request, and turns the empty DNS answer of a host
    the resolver refused into :class:`RefusedAddress`, which is not retried as a lookup failure.

    Settings: NETGUARD_ENABLED.
    """

    def __init__(self, crawler: Crawler, resolver: GuardedResolver | None) -> None:
        self.crawler = crawler
        self.resolver = resolver

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadGuard:
        if not crawler.settings.getbool("NETGUARD_ENABLED"):
            raise NotConfigured
        return cls(crawler, GuardedResolver.for_crawler(crawler))

    def process_exception(self, request: Request, exception: Exception,
                          spider: Spider | None = None) -> None:
        if self.resolver is not None and isinstance(exception, CannotResolveHostError):
            host = urlsplit(request.url).hostname or ""
            why = self.resolver.refusal(host)
            if why:
                raise refuse(self.crawler, RefusedAddress, request, f"{host}: {why}") from exception
        return None

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        location = response.headers.get(b"Location")
        if response.status in REDIRECT_CODES and location and not request.meta.get("dont_redirect"):
            target = urljoin(request.url, location.decode("latin-1").strip())
            scheme = urlsplit(target).scheme
            if scheme not in HTTP_SCHEMES:
                raise refuse(self.crawler, BadScheme, request,
                             f"redirected to scheme {scheme!r} ({target[:200]})")
        return response


def refuse(crawler: Crawler, kind: type[GuardRefusal], request: Request, why: str) -> GuardRefusal:
    """Count and log a refused request (naming where a redirect came from, which is what the
    crawl asked for); return the exception to raise."""
    assert crawler.stats is not None
    crawler.stats.inc_value(f"digestcrawl/refused/{_STATS_NAME[kind]}")
    origin = (request.meta.get("redirect_urls") or [None])[0]
    logger.warning("Refused %s%s: %s%s", request.url[:500], f" (redirected from {origin[:500]})" if origin else "",
                   why, "; see NETGUARD_ALLOW" if kind is RefusedAddress else "")
    return kind(why)


_STATS_NAME: dict[type[GuardRefusal], str] = {RefusedAddress: "private_address", BadScheme: "bad_scheme"}


# -- Chromium ------------------------------------------------------------------------------------


class BrowserGuard:
    """``PLAYWRIGHT_ABORT_REQUEST``: aborts every Chromium request (subresources, navigations)
    to another scheme or a non-public address, counts it (``digestcrawl/refused/browser_request``)
    and logs one line. A predicate set before (``PLAYWRIGHT_ABORT_REQUEST``) still applies.

    Settings: NETGUARD_ENABLED, NETGUARD_ALLOW, NETGUARD_HOST_CACHE_SIZE, PLAYWRIGHT_ABORT_REQUEST.
    """

    def __init__(self, crawler: Crawler, checker: HostChecker,
                 then: Callable[[Any], bool | Awaitable[bool]] | None = None) -> None:
        self.crawler = crawler
        self.checker = checker
        self.then = then

    @classmethod
    def install(cls, crawler: Crawler) -> None:
        """Set ``PLAYWRIGHT_ABORT_REQUEST`` to a guard for this crawl (settings still writable)."""
        settings = crawler.settings
        policy = AddressPolicy.from_settings(settings)
        if not policy.enabled or isinstance(settings.get("PLAYWRIGHT_ABORT_REQUEST"), cls):
            return
        previous = settings.get("PLAYWRIGHT_ABORT_REQUEST")
        guard = cls(crawler, HostChecker(policy, settings.getint("NETGUARD_HOST_CACHE_SIZE")),
                    load_object(previous) if previous else None)
        settings.set("PLAYWRIGHT_ABORT_REQUEST", guard, priority="spider")

    async def __call__(self, request: Any) -> bool:
        found = await self.checker.refusal(request.url)
        if found:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("digestcrawl/refused/browser_request")
            logger.warning("Aborted browser request %s (%s): %s", request.url[:500], request.resource_type, found[1])
            return True
        if self.then is None:
            return False
        verdict = self.then(request)
        return bool(await verdict) if isinstance(verdict, Awaitable) else bool(verdict)
