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
