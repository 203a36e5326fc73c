"""httpwire: request building and response framing/parsing, on real bodies and on garbage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ParseError
from camaudit.probes import httpwire

SAMPLES = Path(__file__).parent / "samples"


def sample_body(name: str) -> bytes:
    """The response body of a real device sample (origin recorded in the file)."""
    return json.loads((SAMPLES / f"{name}.json").read_text())["response"].encode()


# Body: maciej-or/hikvision_next tests/fixtures/ISAPI/System.deviceInfo/nvr.xml
# (b1dc1b9477aba092602cca66f8a2d81e066210a3); the head around it is ours.
NVR_XML = sample_body("hikvision-isapi-deviceinfo-xml-nvr-ds-7608nxi-i2")


def with_length(body: bytes, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\n" + extra
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def chunked(body: bytes, size: int = 100) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n"
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


def test_content_length_response_is_complete_and_framed() -> None:
    raw = with_length(NVR_XML)
    assert httpwire.message_end(raw) == len(raw)
    resp = httpwire.parse_response(raw + b"next message")
    assert resp.status == 200 and resp.reason == "OK" and resp.protocol == "HTTP/1.1"
    assert resp.body == NVR_XML and resp.complete
    assert resp.header("content-type") == "application/xml"


def test_chunked_body_is_decoded_with_extensions_and_trailers() -> None:
    raw = chunked(NVR_XML)
    assert httpwire.message_end(raw) == len(raw)
    resp = httpwire.parse_response(raw)
    assert resp.body == NVR_XML and resp.complete


@pytest.mark.parametrize("make", [with_length, chunked])
def test_message_end_is_none_for_every_proper_prefix(make) -> None:  # type: ignore[no-untyped-def]
    raw = make(NVR_XML[:300])
    for cut in range(0, len(raw), 7):
        assert httpwire.message_end(raw[:cut]) is None, cut
        if cut > len("HTTP/1.1 200 OK\r\n"):
            assert not httpwire.parse_response(raw[:cut], eof=False).complete, cut


def test_close_delimited_body_completes_only_at_eof() -> None:
    raw = b"HTTP/1.0 200 OK\nServer: Boa/0.94.14rc21\n\n<html>login</html>"
    assert httpwire.message_end(raw) is None
    assert httpwire.parse_response(raw, eof=True).complete
    assert not httpwire.parse_response(raw, eof=False).complete
    resp = httpwire.parse_response(raw)
    assert resp.header("Server") == "Boa/0.94.14rc21" and resp.body == b"<html>login</html>"


def test_head_cut_by_close_still_yields_status_and_headers() -> None:
    resp = httpwire.parse_response(b"HTTP/1.1 401 Unauthorized\r\nServer: App-webs/\r\n")
    assert resp.status == 401 and resp.header("Server") == "App-webs/"


def test_no_body_statuses_and_head_method() -> None:
    raw = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
    assert httpwire.message_end(raw) == len(raw)
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
    assert httpwire.message_end(raw, method="HEAD") == len(raw)
    assert httpwire.message_end(raw) is None


def test_interim_100_continue_is_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\n" + with_length(b"ok")
    assert httpwire.parse_response(raw).body == b"ok"
    assert httpwire.message_end(raw) == len(raw)


def test_huge_content_length_is_incomplete_not_an_error() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\nabc"
    assert httpwire.message_end(raw) is None
    resp = httpwire.parse_response(raw)
    assert resp.body == b"abc" and not resp.complete


def test_folding_nul_and_junk_header_lines() -> None:
    raw = (b"HTTP/1.1 200\r\nX-Long: a\r\n  b\r\nnot a header\r\n"
           b"Server: web\0server\r\nContent-Length: 0\r\n\r\n")
    resp = httpwire.parse_response(raw)
    assert resp.reason == ""
    assert resp.header("x-long") == "a b"
    assert resp.header("Server") == "webserver"
    assert [k for k, _ in resp.headers] == ["X-Long", "Server", "Content-Length"]


def test_repeated_identical_content_length_is_accepted() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"
    assert httpwire.parse_response(raw).body == b"ok"


@pytest.mark.parametrize(("raw", "offset"), [
    (b"", 0),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0),
    (b"SSH-2.0-dropbear\r\n", 0),
    (b"HTTP/1.1 2000 OK\r\n\r\n", 0),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 39),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", 57),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 47),
])
def test_malformed_replies_raise_parse_error_with_offset(raw: bytes, offset: int) -> None:
    with pytest.raises(ParseError) as info:
        httpwire.parse_response(raw)
    assert info.value.offset == offset


def test_garbage_is_rejected_early_by_message_end() -> None:
    with pytest.raises(ParseError):
        httpwire.message_end(b"\x15\x03\x01\x00\x02\x02\x28")
    assert httpwire.message_end(b"HT") is None  # could still become a status line


def test_endless_header_section_is_refused() -> None:
    raw = b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (httpwire.MAX_HEAD // 6 + 10)
    with pytest.raises(ParseError, match="too long"):
        httpwire.message_end(raw)


def test_rtsp_replies_use_the_same_parser() -> None:
    # RFC 2326 section 10.1 OPTIONS example reply.
    raw = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE\r\n\r\n"
    assert httpwire.message_end(raw, protocol=b"RTSP") == len(raw)
    assert httpwire.parse_response(raw, protocol=b"RTSP").header("CSeq") == "1"
    with pytest.raises(ParseError):
        httpwire.parse_response(raw)  # not HTTP


def test_build_request_defaults_and_body() -> None:
    req = httpwire.build_request("POST", "/RPC2_Login", "198.51.100.7:8080",
                                 headers=[("Content-Type", "application/json")], body=b"{}")
    head, _, body = req.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /RPC2_Login HTTP/1.1"
    assert b"Host: 198.51.100.7:8080" in lines and b"Connection: close" in lines
    assert b"Content-Length: 2" in lines and body == b"{}"


def test_host_header_forms() -> None:
    assert httpwire.host_header("192.0.2.1", 80, tls=False) == "192.0.2.1"
    assert httpwire.host_header("192.0.2.1", 443, tls=True) == "192.0.2.1"
    assert httpwire.host_header("192.0.2.1", 443, tls=False) == "192.0.2.1:443"
    assert httpwire.host_header("2001:db8::1", 8080, tls=False) == "[2001:db8::1]:8080"


def test_hostile_target_and_header_cannot_inject() -> None:
    req = httpwire.build_request("GET", "/a b\r\nX-Evil: 1#frag", "192.0.2.1")
    assert req.split(b"\r\n")[0] == b"GET /a%20b%0D%0AX-Evil:%201 HTTP/1.1"
    with pytest.raises(ValueError):
        httpwire.build_request("GET", "/", "192.0.2.1", headers=[("X", "a\r\nb")])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_binary_gives_response_or_parse_error(data: bytes) -> None:
    for eof in (True, False):
        try:
            resp = httpwire.parse_response(data, eof=eof)
        except ParseError as exc:
            assert exc.offset is not None and 0 <= exc.offset <= len(data)
            continue
        assert len(resp.body) <= len(data) and 100 <= resp.status <= 999
    try:
        end = httpwire.message_end(data)
    except ParseError:
        return
    assert end is None or 0 < end <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"HTTP/1.1 200 OK\r\n", b"Content-Length: 3\r\n",
                                 b"Transfer-Encoding: chunked\r\n", b"\r\n", b"3\r\nabc\r\n",
                                 b"0\r\n", b"\n", b"x", b"HTTP/1.0 100 Continue\r\n"]),
                max_size=12))
def test_fuzz_structured_fragments(parts: list[bytes]) -> None:
    data = b"".join(parts)
    try:
        end = httpwire.message_end(data)
        resp = httpwire.parse_response(data)
    except ParseError:
        return
    if end is not None:
        assert resp.complete and end <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_text_target_stays_on_one_request_line(target: str) -> None:
    req = httpwire.build_request("GET", target, "192.0.2.1")
    line = req.split(b"\r\n", 1)[0]
    assert line.startswith(b"GET /") and line.endswith(b" HTTP/1.1")
    assert line.count(b" ") == 2 and all(0x21 <= b < 0x7F for b in line.replace(b" ", b""))
