"""RTSP probe: parser on RFC 2326 examples, fuzzing, and the transport on a loopback server."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, make_net, replay, tcp_server

from camaudit.errors import ParseError
from camaudit.netio import OutOfScope
from camaudit.probes import rtsp

# RFC 2326 §10.1, the OPTIONS example (server side), with CRLF line ends.
RFC_OPTIONS = (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n"
               b"Public: DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE\r\n\r\n")
# A DESCRIBE refusal in RFC 2326 §12.44 / RFC 2617 §3.2.1 syntax (realm and nonce invented).
DESCRIBE_401 = (b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nServer: Example RTSP/1.0\r\n"
                b'WWW-Authenticate: Digest realm="ExampleCam", nonce="0123abcd"\r\n'
                b'WWW-Authenticate: Basic realm="ExampleCam"\r\n\r\n')


def test_options_example_from_rfc() -> None:
    fields = rtsp.parse_response(RFC_OPTIONS)
    assert fields == {"status": 200,
                      "public": ["DESCRIBE", "SETUP", "TEARDOWN", "PLAY", "PAUSE"]}


def test_describe_401_gives_realm_and_first_scheme() -> None:
    fields = rtsp.parse_response(DESCRIBE_401)
    assert fields["status"] == 401
    assert fields["realm"] == "ExampleCam"
    assert fields["auth_scheme"] == "Digest"
    assert fields["server"] == "Example RTSP/1.0"


def test_sdp_body_and_content_type() -> None:
    sdp = b"v=0\r\no=- 0 0 IN IP4 192.0.2.10\r\ns=Session\r\n"
    reply = (b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"
             b"Content-Length: %d\r\n\r\n" % len(sdp)) + sdp
    fields = rtsp.parse_response(reply)
    assert fields["content_type"] == "application/sdp"
    assert fields["sdp_origin"] == "- 0 0 IN IP4 192.0.2.10"
    assert fields["sdp_session"] == "Session"


def test_sdp_session_level_only() -> None:
    # RFC 4566 §5: the session level ends at the first m= line; a=tool: names the writer.
    sdp = (b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=Media Presentation\r\ni=Example session\r\n"
           b"a=tool:LIVE555 Streaming Media v2011.05.25\r\nm=video 0 RTP/AVP 96\r\n"
           b"i=per-stream information\r\na=tool:not the session's\r\n")
    assert rtsp.parse_sdp_session(sdp) == {
        "sdp_origin": "- 1 1 IN IP4 0.0.0.0", "sdp_session": "Media Presentation",
        "sdp_info": "Example session", "sdp_tool": "LIVE555 Streaming Media v2011.05.25"}
    assert rtsp.parse_sdp_session(b"\xff\xfe=\r\ns=\r\nbroken") == {}


@pytest.mark.parametrize("data", [b"", b"HTTP/1.1 200 OK\r\n\r\n", b"\x00\x01garbage",
                                  b"RTSP/1.0 2000 OK\r\n\r\n"])
def test_not_rtsp_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        rtsp.parse_response(data)


def test_request_is_rfc2326_shaped() -> None:
    req = rtsp.build_request("OPTIONS", "192.0.2.10", 554, 1)
    assert req.startswith(b"OPTIONS rtsp://192.0.2.10:554/ RTSP/1.0\r\nCSeq: 1\r\n")
    assert req.endswith(b"\r\n\r\n")
    assert b"[2001:db8::1]" in rtsp.build_request("OPTIONS", "2001:db8::1", 554, 1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_parser_binary(data: bytes) -> None:
    try:
        fields = rtsp.parse_response(data)
    except ParseError:
        return
    assert isinstance(fields["status"], int)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=512))
def test_fuzz_parser_after_status_line(text: str) -> None:
    data = b"RTSP/1.0 200 OK\r\n" + text.encode("utf-8", "surrogatepass")
    try:
        fields = rtsp.parse_response(data)
    except ParseError:
        return
    assert fields["status"] == 200


def test_run_options_then_describe_on_one_connection() -> None:
    seen = Seen()

    async def scenario() -> list:
        async with tcp_server(replay(RFC_OPTIONS, DESCRIBE_401, seen=seen,
                                     until=b"\r\n\r\n")) as port:
            return await rtsp.run(make_net(), HOST, port)

    obs = asyncio.run(scenario())
    assert [o.fields["method"] for o in obs] == ["OPTIONS", "DESCRIBE"]
    assert obs[0].fields["public"] == ["DESCRIBE", "SETUP", "TEARDOWN", "PLAY", "PAUSE"]
    assert obs[1].fields["realm"] == "ExampleCam"
    assert obs[1].raw == DESCRIBE_401
    assert seen.connections == 1
    assert seen.requests[0].startswith(b"OPTIONS rtsp://127.77.5.1:")
    assert b"CSeq: 2" in seen.requests[1] and seen.requests[1].startswith(b"DESCRIBE ")


def test_run_refuses_out_of_scope_address() -> None:
    seen = Seen()

    async def scenario() -> None:
        net = make_net()
        async with tcp_server(replay(RFC_OPTIONS, seen=seen), host="127.77.6.1") as port:
            with pytest.raises(OutOfScope):
                await rtsp.run(net, "127.77.6.1", port)
        assert net.scope.refused == [("127.77.6.1", "rtsp probe")]

    asyncio.run(scenario())
    assert seen.connections == 0
