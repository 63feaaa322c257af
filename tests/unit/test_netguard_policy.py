"""The address classifier and allow list of the SSRF guard, as tables, and the resolver's checks."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.resolver import HostResolution
from scrapy.settings import Settings
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from digestcrawl.crawl.guard.netguard import AddressPolicy, GuardedResolver, non_public, parse_ip

ALLOW_LOOPBACK_ONE = AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))


@pytest.mark.parametrize(("address", "why"), [
    ("93.184.215.14", None),
    ("1.1.1.1", None),
    ("2606:4700:4700::1111", None),
    ("127.0.0.1", "loopback"),
    ("127.0.0.2", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "not global"),  # carrier-grade NAT
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "private"),  # documentation
    ("198.18.0.1", "private"),  # benchmarking
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fd00::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "private"),  # documentation
    # IPv6 forms of an IPv4 address are judged as that IPv4 address.
    ("::ffff:127.0.0.1", "loopback: embeds 127.0.0.1"),
    ("::ffff:10.0.0.1", "private: embeds 10.0.0.1"),
    ("::ffff:93.184.215.14", None),
    ("64:ff9b::a9fe:a9fe", "link-local: embeds 169.254.169.254"),  # NAT64 169.254.169.254
    ("64:ff9b::7f00:1", "loopback: embeds 127.0.0.1"),
    ("64:ff9b::5db8:d70e", None),  # NAT64 of a public address
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:7f00:1::1", "loopback: embeds 127.0.0.1"),  # 6to4 of 127.0.0.1
    ("2002:c0a8:101::1", "private: embeds 192.168.1.1"),  # 6to4 of 192.168.1.1
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private: embeds 10.0.0.1"),
    ("::7f00:1", "IPv4-compatible"),
])
def test_non_public(address: str, why: str | None) -> None:
    assert non_public(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize(("policy", "address", "refused"), [
    (AddressPolicy(), "127.0.0.1", True),
    (AddressPolicy(), "8.8.8.8", False),
    (ALLOW_LOOPBACK_ONE, "127.0.0.1", False),
    (ALLOW_LOOPBACK_ONE, "::ffff:127.0.0.1", False),  # the same destination
    (ALLOW_LOOPBACK_ONE, "127.0.0.2", True),
    (ALLOW_LOOPBACK_ONE, "::1", True),
    (ALLOW_LOOPBACK_ONE, "64:ff9b::a00:1", True),
    (AddressPolicy(allowed=(ipaddress.ip_network("10.0.0.0/8"),)), "10.9.9.9", False),
    (AddressPolicy(allowed=(ipaddress.ip_network("fd00::/8"),)), "fd00::1", False),
    (AddressPolicy(enabled=False), "169.254.169.254", False),
])
def test_policy(policy: AddressPolicy, address: str, refused: bool) -> None:
    assert (policy.refusal(ipaddress.ip_address(address)) is not None) is refused


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.2", "127.0.0.2"),
    ("127.0.0.2.", "127.0.0.2"),  # a trailing dot still makes a literal, never a name for DNS
    ("10.0.0.1.", "10.0.0.1"),
    ("fe80::1%eth0", "fe80::1"),
    ("example.com.", None),
    ("127.0.0.2..", None),
    ("", None),
])
def test_parse_ip(host: str, address: str | None) -> None:
    assert parse_ip(host) == (ipaddress.ip_address(address) if address else None)


@pytest.mark.parametrize(("allow", "networks"), [
    ([], ()),
    ("", ()),  # the environment's default, through -s or Scrapyd: a string
    ("127.0.0.1, 10.0.0.0/8,", ("127.0.0.1/32", "10.0.0.0/8")),
    (["fd00::/8"], ("fd00::/8",)),
])
def test_allow_list_from_settings(allow: object, networks: tuple[str, ...]) -> None:
    policy = AddressPolicy.from_settings(Settings({"NETGUARD_ENABLED": True, "NETGUARD_ALLOW": allow}))
    assert policy.allowed == tuple(ipaddress.ip_network(n) for n in networks)


def test_any_refused_answer_refuses_the_host() -> None:
    answers = [ipaddress.ip_address(a) for a in ("93.184.215.14", "10.0.0.1")]
    assert AddressPolicy().refuse_all(answers) == "non-public address 10.0.0.1 (private)"
    assert AddressPolicy().refuse_all(answers[:1]) is None


@implementer(IHostnameResolver)
class Upstream:
    """A DNS stand-in: fixed answers, every lookup recorded."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def resolveHostName(self, receiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        self.lookups.append(hostName)
        resolution = HostResolution(hostName)
        receiver.resolutionBegan(resolution)
        for ip in self.answers.get(hostName, []):
            kind = IPv6Address if ":" in ip else IPv4Address
            receiver.addressResolved(kind("TCP", ip, portNumber))
        receiver.resolutionComplete()
        return resolution


@implementer(IResolutionReceiver)
class Answers:
    def __init__(self) -> None:
        self.addresses: list[Any] = []
        self.complete = False

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.complete = True


def resolve(resolver: GuardedResolver, host: str, port: int = 80) -> list[tuple[str, int]]:
    answers = Answers()
    resolver.resolveHostName(answers, host, port)
    assert answers.complete
    return [(a.host, a.port) for a in answers.addresses]


def test_resolver_checks_every_answer_once_per_host() -> None:
    upstream = Upstream({"news.example": ["93.184.215.14"], "rebind.example": ["93.184.215.14", "127.0.0.1"],
                         "mapped.example": ["::ffff:10.0.0.1"]})
    resolver = GuardedResolver(SimpleNamespace(nameResolver=upstream), AddressPolicy(), cache_size=100)
    assert resolve(resolver, "news.example") == [("93.184.215.14", 80)]
    assert resolve(resolver, "news.example", 443) == [("93.184.215.14", 443)]  # cached, with its port
    # Any non-public answer refuses the host: the endpoint gets no address to connect to.
    assert resolve(resolver, "rebind.example") == []
    assert resolver.refusal("rebind.example") == "non-public address 127.0.0.1 (loopback)"
    assert resolve(resolver, "mapped.example") == []
    assert resolver.refusal("news.example") is None
    assert upstream.lookups == ["news.example", "rebind.example", "mapped.example"]
    # Another allow list judges the cached answers again, without a lookup.
    resolver.configure(AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),)))
    assert resolver.refusal("rebind.example") is None
    assert resolve(resolver, "rebind.example") == [("93.184.215.14", 80), ("127.0.0.1", 80)]
    assert upstream.lookups == ["news.example", "rebind.example", "mapped.example"]
