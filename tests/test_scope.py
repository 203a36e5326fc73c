"""Scope parsing, exclusions, streaming and the gate."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ScopeError
from camaudit.scope import Scope


def test_forms_address_cidr_range_and_short_range() -> None:
    scope = Scope(["127.66.0.1", "127.66.1.0/30", "127.66.2.10-12", "127.66.3.1-127.66.3.2"])
    assert list(scope.addresses()) == [
        "127.66.0.1", "127.66.1.0", "127.66.1.1", "127.66.1.2", "127.66.1.3",
        "127.66.2.10", "127.66.2.11", "127.66.2.12", "127.66.3.1", "127.66.3.2"]
    assert scope.size == 10


def test_exclusions_in_every_form() -> None:
    scope = Scope(["127.66.0.0/24"], ["127.66.0.0/25", "127.66.0.200-255", "127.66.0.130"])
    got = list(scope.addresses())
    assert got[0] == "127.66.0.128" and got[-1] == "127.66.0.199"
    assert "127.66.0.130" not in got
    assert scope.size == len(got) == 71


def test_ipv6_address_cidr_and_range() -> None:
    scope = Scope(["::1", "2001:db8::/126", "2001:db8:1::10-12"])
    assert scope.size == 1 + 4 + 3
    assert scope.allows("2001:db8::3") and not scope.allows("2001:db8::4")
    assert scope.allows("[::1]")


def test_hostname_resolved_once_and_replayed() -> None:
    scope = Scope(["localhost"])
    assert "localhost" in scope.resolved
    assert scope.allows("127.0.0.1") or scope.allows("::1")
    # A resume replays the recorded answer instead of asking DNS again.
    replay = Scope(["localhost"], resolved={"localhost": ["127.0.0.9"]})
    assert list(replay.addresses()) == ["127.0.0.9"]


def test_target_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "targets.txt"
    path.write_text("# estate\n127.66.0.1, 127.66.0.2\n127.66.1.0/31  # lab\n\n")
    scope = Scope([f"@{path}"], [])
    assert list(scope.addresses()) == ["127.66.0.1", "127.66.0.2", "127.66.1.0", "127.66.1.1"]


@pytest.mark.parametrize("bad", ["300.1.1.1", "127.0.0.0/33", "127.0.0.9-3", "not a target!",
                                 "127.0.0.1-::1", "@/nonexistent/file", ""])
def test_bad_targets_give_one_clear_error(bad: str) -> None:
    with pytest.raises(ScopeError) as info:
        Scope([bad] if bad else [])
    assert "\n" not in str(info.value)


def test_large_scopes_stream_without_materialising() -> None:
    scope = Scope(["10.0.0.0/8"], ["10.0.0.0/9"])  # parsed only, never contacted
    assert scope.size == 2**23
    first = list(itertools.islice(scope.addresses(), 3))
    assert first == ["10.128.0.0", "10.128.0.1", "10.128.0.2"]
    assert len(scope.intervals) == 1


def test_resume_after_cursor() -> None:
    scope = Scope(["127.66.0.0/30", "127.66.1.0/31"])
    assert list(scope.addresses(after="127.66.0.2")) == ["127.66.0.3", "127.66.1.0", "127.66.1.1"]
    assert list(scope.addresses(after="127.66.1.1")) == []


def test_gate_rejects_garbage_and_records_refusals() -> None:
    scope = Scope(["127.66.0.0/24"])
    assert not scope.allows("not-an-ip")
    assert not scope.allows("127.67.0.1")
    assert scope.allows("::ffff:127.66.0.5")  # IPv4-mapped form of an in-scope address
    scope.refuse("127.67.0.1", "redirect")
    assert scope.refused == [("127.67.0.1", "redirect")]


addresses = st.integers(min_value=int(ipaddress.IPv4Address("127.0.0.0")),
                        max_value=int(ipaddress.IPv4Address("127.0.3.255")))


@st.composite
def blocks(draw: st.DrawFn) -> str:
    start = draw(addresses)
    prefix = draw(st.integers(min_value=24, max_value=32))
    net = ipaddress.IPv4Network((start, prefix), strict=False)
    return str(net)


@settings(max_examples=150, deadline=None)
@given(st.lists(blocks(), min_size=1, max_size=5), st.lists(blocks(), max_size=4))
def test_property_gate_agrees_with_enumeration(inc: list[str], exc: list[str]) -> None:
    scope = Scope(inc, exc)
    included = set().union(*(set(ipaddress.IPv4Network(b)) for b in inc))
    excluded = set().union(*(set(ipaddress.IPv4Network(b)) for b in exc)) if exc else set()
    expected = sorted(included - excluded)
    got = list(scope.addresses())
    assert got == [str(a) for a in expected]
    assert scope.size == len(expected)
    for a in list(included | excluded)[:50]:
        assert scope.allows(str(a)) == (a in included and a not in excluded)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_property_garbage_is_a_scope_error_or_a_scope(text: str) -> None:
    def no_dns(name: str) -> list:  # type: ignore[type-arg]
        raise ScopeError(f"not resolving {name!r} in tests")  # DNS would leave loopback

    try:
        scope = (Scope([text], resolver=no_dns)
                 if text.strip() and not text.strip().startswith("@") else None)
    except ScopeError:
        return
    if scope is not None:
        assert scope.size >= 0


# --- issue 14: scope checked like a firewall rule (parsed only: nothing here is contacted) ---

def test_host_bits_set_is_one_clear_error_showing_the_network() -> None:
    with pytest.raises(ScopeError) as info:
        Scope(["10.0.0.0/4"])
    assert str(info.value) == (
        "10.0.0.0/4 has host bits set: it would mean 0.0.0.0/4 (0.0.0.0-15.255.255.255, "
        "268,435,456 addresses); write 0.0.0.0/4 if that is meant, or add --loose to accept it")
    with pytest.raises(ScopeError, match=r"192\.168\.1\.0/24 if that is meant"):
        Scope(["192.168.1.7/24"])
    with pytest.raises(ScopeError, match=r"2001:db8::/64"):
        Scope(["2001:db8::1/64"])
    with pytest.raises(ScopeError, match="host bits"):
        Scope(["127.66.0.0/24"], ["127.66.0.9/30"])  # exclusions are checked the same way


def test_loose_takes_the_network_and_still_leaves_out_this_network() -> None:
    scope = Scope(["10.0.0.0/4"], loose=True)
    assert scope.networks() == ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5"]
    assert next(scope.addresses()) == "1.0.0.0"
    assert not scope.allows("0.0.0.1") and not scope.allows("0.0.0.0")
    summary = scope.summary([80])
    assert [(c.block, c.addresses, c.rfc) for c in summary.left_out] == [
        ("0.0.0.0/8", 2**24 - 1, "RFC 791 section 3.2"),
        ("0.0.0.0/32", 1, "RFC 1122 section 3.2.1.3")]
    assert summary.addresses == 2**28 - 2**24
    assert Scope(["192.168.1.7/24"], loose=True).networks() == ["192.168.1.0/24"]


def test_backwards_range_is_an_error_unless_loose() -> None:
    with pytest.raises(ScopeError) as info:
        Scope(["127.66.0.9-3"])
    assert "written backwards" in str(info.value) and "127.66.0.3-127.66.0.9" in str(info.value)
    assert Scope(["127.66.0.9-3"], loose=True).networks() == ["127.66.0.3/32", "127.66.0.4/30",
                                                              "127.66.0.8/31"]
    assert Scope(["2001:db8::10-5"], loose=True).size == 12


@pytest.mark.parametrize("target, first_kept", [
    ("0.0.0.0/0", "1.0.0.0"), ("0.0.0.0/4", "1.0.0.0"), ("224.0.0.0/3", None),
    ("192.0.0.0/22", "192.0.0.0"), ("64.0.0.0/2", "64.0.0.0"), ("::/0", "::2"),
    ("fe00::/7", "fe00::"), ("2001::/16", "2001::")])
def test_special_purpose_addresses_are_left_out_of_wider_targets(target: str,
                                                                  first_kept: str | None) -> None:
    scope = Scope([target])
    assert next(scope.addresses(), None) == first_kept
    for special in ("0.0.0.0", "0.0.0.1", "127.0.0.1", "192.0.0.8", "192.0.0.170", "192.0.2.1",
                    "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250",
                    "240.0.0.1", "255.255.255.255", "::", "::1", "ff02::1", "2001:db8::1",
                    "3fff::1", "2001:1::4", "100:0:0:1::1"):
        assert not scope.allows(special), special
    left = {c.block for c in scope.summary().left_out}
    assert left and all(c.why and c.rfc.startswith("RFC") for c in scope.summary().left_out)
    assert scope.summary().addresses == scope.size


def test_more_specific_rows_win_and_devices_stay_in() -> None:
    scope = Scope(["192.0.0.0/23"])
    assert scope.allows("192.0.0.1") and scope.allows("192.0.0.9")  # RFC 7335, RFC 7723 rows
    assert not scope.allows("192.0.0.8") and not scope.allows("192.0.0.11")
    wide = Scope(["0.0.0.0/0"])
    for device in ("10.1.2.3", "172.16.0.9", "192.168.1.64", "100.64.0.1", "169.254.12.7",
                   "198.18.0.1", "192.88.99.7", "8.8.8.8"):
        assert wide.allows(device), device
    assert Scope(["::/0"]).allows("fe80::1") and Scope(["::/0"]).allows("fd00::1")
    assert not Scope(["2001::/16"]).allows("2001:10::1")  # deprecated row: the /23 decides
    assert Scope(["2001::/16"]).allows("2001::1")  # Teredo (RFC 4380) inside the /23


@pytest.mark.parametrize("target", ["0.0.0.1", "0.0.0.0/8", "224.0.0.251", "239.0.0.0/8",
                                    "255.255.255.255", "192.0.2.0/24", "192.0.2.10-20", "::",
                                    "ff02::1", "2001:db8::/126", "127.0.0.0/8", "::1"])
def test_a_special_block_named_on_its_own_is_kept(target: str) -> None:
    scope = Scope([target])
    assert scope.size == Scope([target], resolver=None).size > 0
    assert not scope.summary().left_out
    assert sum(c.addresses for c in scope.summary().named_special) == scope.size


def test_host_names_keep_loopback_answers_only() -> None:
    answers = {"cam.example": ["10.1.2.3"], "sinkhole.example": ["0.0.0.0", "::"],
               "localhost.example": ["127.0.0.1", "::1"], "mdns.example": ["224.0.0.251"]}

    def resolver(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address(a) for a in answers[name]]

    scope = Scope(list(answers), resolver=resolver)
    assert scope.networks() == ["10.1.2.3/32", "127.0.0.1/32", "::1/128"]
    assert scope.resolved == answers  # every answer is recorded, kept or not
    assert {c.block for c in scope.summary().left_out} == {"0.0.0.0/32", "224.0.0.0/4",
                                                           "::/128"}


def test_ipv4_mapped_targets_are_read_as_ipv4() -> None:
    scope = Scope(["::ffff:127.66.0.5", "::ffff:127.66.1.0/126"])
    assert list(scope.addresses()) == ["127.66.0.5", "127.66.1.0", "127.66.1.1", "127.66.1.2",
                                       "127.66.1.3"]
    assert scope.allows("::ffff:127.66.0.5") and scope.allows("127.66.1.3")


def test_an_error_in_a_target_file_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sites.txt"
    path.write_text("127.66.0.0/24\n127.66.1.7/24\n")
    with pytest.raises(ScopeError, match=r"127\.66\.1\.7/24 has host bits set.*\(in .*sites.txt\)"):
        Scope([f"@{path}"])
    assert Scope([f"@{path}"], loose=True).networks() == ["127.66.0.0/23"]


def test_summary_lists_networks_names_exclusions_and_ports() -> None:
    scope = Scope(["127.66.0.0/29", "localhost"], ["127.66.0.4/30"],
                  resolved={"localhost": ["127.0.0.1"]})
    doc = scope.summary([554, 80]).as_dict()
    assert doc["networks"] == ["127.0.0.1/32", "127.66.0.0/30"]
    assert doc["addresses"] == 5 and doc["excluded"] == 4 and doc["ports"] == [80, 554]
    assert doc["resolved"] == {"localhost": ["127.0.0.1"]} and doc["left_out"] == []
    assert doc["named_special"][0]["block"] == "127.0.0.0/8"


def test_special_purpose_table_follows_the_registry_destination_column() -> None:
    """skip where the registry says Destination False; the exceptions are the documented ones."""
    from camaudit.special_purpose import SPECIAL_BLOCKS

    blocks = [row.block for row in SPECIAL_BLOCKS]
    assert len(blocks) == len(set(blocks))
    for row in SPECIAL_BLOCKS:
        net = ipaddress.ip_network(row.block)  # strict: every block is written exactly
        assert row.rfc.startswith("RFC") and row.source.startswith("https://www.iana.org/")
        if row.name.startswith("Loopback"):
            expected = "self"
        elif row.name in ("Multicast", "Limited Broadcast"):
            expected = "skip"
        elif row.destination is None:
            expected = "inherit"  # deprecated: no values in the registry
        else:
            expected = "keep" if row.destination else "skip"
        assert row.scan == expected, row
        assert net.version == (6 if "ipv6" in row.source or ":" in row.block else 4)
    # RFC 1918 private ranges are where cameras live: never left out
    assert all(r.scan == "keep" for r in SPECIAL_BLOCKS if r.name == "Private-Use")


# --- property: for any scope text, what `camaudit scope` lists is exactly what the gate lets
# through, and no special-purpose address gets in unless a target named it on its own. The
# oracle below restates the rules address by address, independently of the interval algebra.

from camaudit.special_purpose import SPECIAL_BLOCKS  # noqa: E402

_ROWS = [(ipaddress.ip_network(r.block), r) for r in SPECIAL_BLOCKS if r.scan != "inherit"]
_NAMES = {"cam.example": ["10.1.2.3"], "sinkhole.example": ["0.0.0.0", "::"],
          "loop.example": ["127.0.0.7", "::1"], "mdns.example": ["224.0.0.251"]}
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_POOL = sorted({int(a) for net, _ in _ROWS for a in (net.network_address, net.broadcast_address)}
               | {0, 2**32 - 1})


def _fake_resolver(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    if name not in _NAMES:
        raise ScopeError(f"not resolving {name!r} in tests")
    return [ipaddress.ip_address(a) for a in _NAMES[name]]


@st.composite
def _address(draw: st.DrawFn, version: int) -> str:
    top = 2**32 - 1 if version == 4 else 2**128 - 1
    near = [v for v in _POOL if v <= top]
    value = draw(st.one_of(st.integers(0, top),
                           st.sampled_from(near).map(lambda v: v + draw(st.integers(-2, 2)))))
    value = min(max(value, 0), top)
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


@st.composite
def _target(draw: st.DrawFn) -> str:
    version = draw(st.sampled_from([4, 4, 6]))
    kind = draw(st.sampled_from(["address", "cidr", "cidr", "range", "short", "name"]))
    start = draw(_address(version))
    if kind == "name":
        return draw(st.sampled_from(sorted(_NAMES)))
    if kind == "cidr":
        bits = 32 if version == 4 else 128
        prefix = draw(st.integers(0, bits) | st.integers(bits - 12, bits))
        exact = draw(st.booleans())
        net = ipaddress.ip_network(f"{start}/{prefix}", strict=False)
        return str(net) if exact else f"{start}/{prefix}"
    if kind == "range":
        return f"{start}-{draw(_address(version))}"
    if kind == "short" and version == 4:
        return f"{start}-{draw(st.integers(0, 255))}"
    if kind == "short" and ipaddress.ip_address(start) not in _MAPPED:
        return f"{start}-{draw(st.integers(0, 0xFFFF)):x}"
    return start


class _Bad(Exception):
    pass


def _oracle_parse(spec: str, loose: bool) -> list[tuple[int, int, int, bool]]:
    """(version, first, last, from_dns) for one target text, or _Bad where strict refuses."""
    if spec in _NAMES:
        return [_unmapped(ipaddress.ip_address(a), ipaddress.ip_address(a), True)
                for a in _NAMES[spec]]
    if "/" in spec:
        net = ipaddress.ip_network(spec, strict=False)
        if not loose and ipaddress.ip_address(spec.split("/")[0]) != net.network_address:
            raise _Bad(spec)
        return [_unmapped(net.network_address, net.broadcast_address, False)]
    if "-" in spec:
        left, right = spec.split("-")
        lo = ipaddress.ip_address(left)
        if lo.version == 4 and "." not in right:
            hi = ipaddress.ip_address(".".join([*left.split(".")[:3], right]))
        elif lo.version == 6 and ":" not in right:
            hi = ipaddress.IPv6Address((int(lo) >> 16 << 16) + int(right, 16))
        else:
            hi = ipaddress.ip_address(right)
        if hi < lo:
            if not loose:
                raise _Bad(spec)
            lo, hi = hi, lo
        return [_unmapped(lo, hi, False)]
    a = ipaddress.ip_address(spec)
    return [_unmapped(a, a, False)]


def _unmapped(lo: ipaddress.IPv4Address | ipaddress.IPv6Address,
              hi: ipaddress.IPv4Address | ipaddress.IPv6Address,
              from_dns: bool) -> tuple[int, int, int, bool]:
    if lo.version == 6 and lo in _MAPPED and hi in _MAPPED:
        base = int(_MAPPED.network_address)
        return (4, int(lo) - base, int(hi) - base, from_dns)
    return (lo.version, int(lo), int(hi), from_dns)


def _special_row(version: int, value: int) -> str | None:
    """The decision of the most specific special-purpose row holding the address."""
    best: tuple[int, str] | None = None
    for net, row in _ROWS:
        if net.version == version and int(net.network_address) <= value <= int(
                net.broadcast_address) and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, row.scan)
    return None if best is None or best[1] == "keep" else best[1]


def _named_on_its_own(t: tuple[int, int, int, bool]) -> bool:
    version, first, last, from_dns = t
    return any(net.version == version and int(net.network_address) <= first
               and last <= int(net.broadcast_address) and row.scan in ("skip", "self")
               and (not from_dns or row.scan == "self") for net, row in _ROWS)


def _expected(version: int, value: int, inc: list[tuple[int, int, int, bool]],
              exc: list[tuple[int, int, int, bool]]) -> bool:
    holding = [t for t in inc if t[0] == version and t[1] <= value <= t[2]]
    if not holding or any(t[0] == version and t[1] <= value <= t[2] for t in exc):
        return False
    return _special_row(version, value) is None or any(_named_on_its_own(t) for t in holding)


@settings(max_examples=400, deadline=None)
@given(st.lists(_target(), min_size=1, max_size=5), st.lists(_target(), max_size=3),
       st.booleans(), st.randoms(use_true_random=False))
def test_property_scope_lists_exactly_what_the_gate_allows(
        targets: list[str], excludes: list[str], loose: bool, rnd) -> None:  # type: ignore[no-untyped-def]
    try:
        inc = [t for spec in targets for t in _oracle_parse(spec, loose)]
        exc = [t for spec in excludes for t in _oracle_parse(spec, loose)]
    except _Bad:
        with pytest.raises(ScopeError, match=r"host bits set|written backwards"):
            Scope(targets, excludes, resolver=_fake_resolver, loose=loose)
        return
    scope = Scope(targets, excludes, resolver=_fake_resolver, loose=loose)
    summary = scope.summary([80])
    listed = [ipaddress.ip_network(n) for n in summary.networks]

    def is_listed(version: int, value: int) -> bool:
        return any(n.version == version and int(n.network_address) <= value
                   <= int(n.broadcast_address) for n in listed)

    samples: set[tuple[int, int]] = set()
    for version, first, last, _ in inc + exc:
        top = 2**32 - 1 if version == 4 else 2**128 - 1
        for v in (first - 1, first, (first + last) // 2, last, last + 1, rnd.randint(first, last)):
            if 0 <= v <= top:
                samples.add((version, v))
    samples |= {(4, v) for v in _POOL if v < 2**32} | {(6, v) for v in _POOL}
    for version, value in samples:
        want = _expected(version, value, inc, exc)
        assert is_listed(version, value) == want, (version, value)
        address = str(ipaddress.IPv6Address(value) if version == 6 else
                      ipaddress.IPv4Address(value))
        if not (version == 6 and ipaddress.IPv6Address(value) in _MAPPED):
            assert scope.allows(address) == want, address
    # the listing is the scan's walk: same order, nothing else, every address through the gate
    walked = list(itertools.islice(scope.addresses(), 40))
    listing = list(itertools.islice((str(a) for n in listed for a in n), 40))
    assert walked == listing and all(scope.allows(a) for a in walked)
    # every address of the targets is accounted for: scanned, excluded or left out (and why)
    union = Scope(targets, resolver=_fake_resolver, loose=loose)
    total = union.size + sum(c.addresses for c in union.summary().left_out)
    assert total == (summary.addresses + summary.excluded
                     + sum(c.addresses for c in summary.left_out))
    assert summary.addresses == sum(n.num_addresses for n in listed) == scope.size
