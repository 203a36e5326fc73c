"""httpauth: challenge parsing and Digest/Basic answers, checked against the RFC examples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.probes import httpauth
from camaudit.probes.base import Credentials

MUFASA_2617 = Credentials("Mufasa", "Circle Of Life")
MUFASA_7616 = Credentials("Mufasa", "Circle of Life")


def params_of(header: str) -> dict[str, str]:
    (challenge,) = httpauth.parse_challenges(header)
    return challenge.params


def test_rfc2617_digest_example() -> None:
    # RFC 2617 section 3.5: the challenge and the expected response digest.
    ch = httpauth.parse_challenges(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"')[0]
    value = httpauth.authorization(ch, MUFASA_2617, "GET", "/dir/index.html",
                                   cnonce="0a4f113b")
    assert value is not None and value.startswith("Digest ")
    answer = params_of(value)
    assert answer["response"] == "6629fae49393a05397450978507c4ef1"
    assert answer["nc"] == "00000001" and answer["qop"] == "auth"
    assert answer["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"


def test_rfc7616_md5_and_sha256_examples() -> None:
    # RFC 7616 section 3.9.1: same challenge with SHA-256 and MD5.
    common = ('realm="http-auth@example.org", qop="auth, auth-int", '
              'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
              'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    chs = httpauth.parse_challenges(f"Digest algorithm=SHA-256, {common}, "
                                    f"Digest algorithm=MD5, {common}")
    assert [c.params["algorithm"] for c in chs] == ["SHA-256", "MD5"]
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    expected = ["753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
                "8ca523f5e9506fed4657c9700eebdbec"]
    for ch, want in zip(chs, expected, strict=True):
        value = httpauth.authorization(ch, MUFASA_7616, "GET", "/dir/index.html",
                                       cnonce=cnonce)
        assert value is not None
        assert params_of(value)["response"] == want


def test_digest_without_qop_uses_rfc2069_form() -> None:
    ch = httpauth.Challenge("Digest", {"realm": "r", "nonce": "n"})
    value = httpauth.authorization(ch, Credentials("u", "p"), "GET", "/")
    assert value is not None
    answer = params_of(value)
    assert "qop" not in answer and "nc" not in answer and len(answer["response"]) == 32


def test_rfc7617_basic_example() -> None:
    ch = httpauth.parse_challenges('Basic realm="WallyWorld"')[0]
    assert ch.realm == "WallyWorld"
    assert httpauth.authorization(ch, Credentials("Aladdin", "open sesame"), "GET", "/") \
        == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_pick_prefers_computable_digest_then_basic() -> None:
    chs = httpauth.parse_challenges(
        'Digest realm="a", nonce="n", qop="auth-int", Basic realm="b", '
        'Digest realm="c", nonce="m", algorithm=SHA-512-256')
    picked = httpauth.pick(chs)
    assert picked is not None and picked.scheme == "Basic"
    assert httpauth.pick(httpauth.parse_challenges("Negotiate YII==")) is None


def test_unquoted_values_token68_and_junk() -> None:
    chs = httpauth.parse_challenges('Negotiate abc==, Digest realm=cam, nonce=x , ,,"junk"')
    assert [c.scheme for c in chs] == ["Negotiate", "Digest"]
    assert chs[1].params == {"realm": "cam", "nonce": "x"}
    assert params_of(r'Basic realm="a \"quoted\" realm"')["realm"] == 'a "quoted" realm'


def test_quotes_in_user_are_escaped() -> None:
    ch = httpauth.Challenge("Digest", {"realm": "r", "nonce": "n", "qop": "auth"})
    value = httpauth.authorization(ch, Credentials('we"ird', "p"), "GET", "/")
    assert value is not None and params_of(value)["username"] == 'we"ird'


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_parse_challenges_never_raises(text: str) -> None:
    for ch in httpauth.parse_challenges(text):
        assert ch.scheme
        value = httpauth.authorization(ch, Credentials("u", "p"), "GET", "/")
        assert value is None or value.split(" ", 1)[0] in ("Basic", "Digest")
