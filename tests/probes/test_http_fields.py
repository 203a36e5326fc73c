"""The sans-IO half of the HTTP probe: response -> ``http`` fields, favicon, TLS hints."""

from __future__ import annotations

import base64
import encodings.aliases
import hashlib
import time

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ParseError
from camaudit.probes import favicon, http, httpclient, httpwire


def response(head: bytes, body: bytes = b"") -> bytes:
    return head.replace(b"\n", b"\r\n") + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_fields_of_a_login_page() -> None:
    body = b"<html><head><TITLE lang=en>\n  Caf\xe9 Cam \n</TITLE></head></html>"
    raw = response(b"HTTP/1.1 200 OK\nServer: lighttpd/1.4.35\n"
                   b"Content-Type: text/html; charset=ISO-8859-1\n", body)
    fields = http.parse_http(raw)
    assert fields["status"] == 200 and fields["server"] == "lighttpd/1.4.35"
    assert fields["title"] == "Café Cam"  # decoded by the declared charset, kept as sent
    assert fields["content_type"] == "text/html; charset=ISO-8859-1"
    assert fields["headers"] == ["Server: lighttpd/1.4.35",
                                 "Content-Type: text/html; charset=ISO-8859-1",
                                 f"Content-Length: {len(body)}"]
    assert str(fields["body"]).startswith("<html>")


def test_fields_of_a_challenge_and_a_redirect() -> None:
    fields = http.parse_http(response(
        b"HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm=\"cam\"\n"
        b"WWW-Authenticate: Digest realm=\"cam-d\", nonce=\"x\"\n"))
    assert fields["auth_scheme"] == "Basic" and fields["realm"] == "cam"
    fields = http.parse_http(response(b"HTTP/1.1 302 Found\nLocation: /doc/index.html\n"))
    assert fields["location"] == "/doc/index.html" and "body" not in fields


def test_nul_bytes_are_stripped_and_lengths_capped() -> None:
    body = b"<title>" + b"T\0" * 1000 + b"</title>" + b"x" * 10_000
    fields = http.parse_http(response(b"HTTP/1.1 200 OK\nServer: a\0b" + b"c" * 2000 + b"\n"
                                      b"Content-Type: text/html\n", body))
    assert fields["server"] == "ab" + "c" * (http.VALUE_MAX - 2)
    assert fields["title"] == "T" * http.TITLE_MAX
    assert len(str(fields["body"])) == http.BODY_TEXT and "\0" not in str(fields["body"])


def test_binary_body_is_not_kept_as_text() -> None:
    fields = http.parse_http(response(b"HTTP/1.1 200 OK\n", b"\x00\x01\x02icon"))
    assert "body" not in fields
    fields = http.parse_http(response(b"HTTP/1.1 200 OK\nContent-Type: image/png\n", b"PNG"))
    assert "body" not in fields


@pytest.mark.parametrize("charset", [b"x-no-such", b"base64", b"rot13", b"idna", b"punycode",
                                     b"zlib", b"utf-8"])
def test_unknown_or_non_text_charset_falls_back_to_utf8(charset: bytes) -> None:
    fields = http.parse_http(response(b"HTTP/1.1 200 OK\nContent-Type: text/html; charset="
                                      + charset + b"\n", b"<title>\xc3\xa9\xff</title>"))
    assert fields["title"] == "é\ufffd"


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9._:-]{1,40}", fullmatch=True), st.binary(max_size=64))
def test_fuzz_any_declared_charset(charset: str, body: bytes) -> None:
    raw = response(b"HTTP/1.1 200 OK\nContent-Type: text/plain; charset=" + charset.encode()
                   + b"\n", body)
    assert http.parse_http(raw)["status"] == 200


def test_cookie_redaction_keeps_names_and_attributes() -> None:
    assert http.redact_cookie(" sid=abc123; Path=/; HttpOnly") == \
        " sid=<redacted>; Path=/; HttpOnly"
    raw = b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSet-Cookie:b=2;x\r\n\r\nsid=keep"
    assert http.redact_raw_cookies(raw, raw.index(b"sid")) == (
        b"HTTP/1.1 200 OK\r\nset-cookie: a=<redacted>\r\nSet-Cookie:b=<redacted>;x\r\n\r\nsid=keep")


def exchange(raw: bytes, error: str | None = None) -> httpclient.Exchange:
    try:
        resp = httpwire.parse_response(raw) if raw else None
    except ParseError:
        resp = None
    return httpclient.Exchange("192.0.2.1", 8443, False, "GET", "/", raw, resp, error)


def test_tls_hints() -> None:
    assert http.looks_like_tls(exchange(b"\x15\x03\x01\x00\x02\x02\x46", "malformed"))
    assert http.looks_like_tls(exchange(b"", "closed without a reply"))
    assert not http.looks_like_tls(exchange(b"", "no complete reply within 3.0s"))
    # nginx's answer to plain HTTP on an HTTPS port (status 400, its 497 page text)
    nginx = response(b"HTTP/1.1 400 Bad Request\nServer: nginx\n",
                     b"<center>The plain HTTP request was sent to HTTPS port</center>")
    assert http.looks_like_tls(exchange(nginx))
    assert not http.looks_like_tls(exchange(response(b"HTTP/1.1 400 Bad Request\n", b"no")))


def test_favicon_hashes_match_nmap_md5_and_shodan_mmh3() -> None:
    icon = bytes(range(256)) * 40  # long enough for several base64 lines
    hashes = favicon.favicon_hashes(icon)
    assert hashes["favicon_md5"] == hashlib.md5(icon).hexdigest()
    encoded = base64.encodebytes(icon)  # 76-character lines, each ending in a newline
    assert encoded.endswith(b"\n") and b"\n" in encoded[:-1]
    assert hashes["favicon_mmh3"] == mmh3.hash(encoded)
    assert -(2 ** 31) <= int(hashes["favicon_mmh3"]) < 2 ** 31
    # A fixed vector so a change of recipe (e.g. b64encode without newlines) is caught.
    assert favicon.favicon_hashes(b"abc")["favicon_mmh3"] == mmh3.hash(b"YWJj\n")


@pytest.mark.parametrize(("html", "href"), [
    ('<link rel="icon" href="/a.ico">', "/a.ico"),
    ("<LINK REL='Shortcut Icon' HREF='img/b.png'>", "img/b.png"),
    ('<link href=c.ico rel="apple-touch-icon icon">', "c.ico"),
    ('<link rel="stylesheet" href="s.css"><link rel="icon" href="d.ico">', "d.ico"),
    ('<link rel="iconic" href="x">', None),
    ('<link rel="icon">', None),
    ("no links", None),
])
def test_icon_href(html: str, href: str | None) -> None:
    assert favicon.icon_href(html) == href


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_parse_http_binary(data: bytes) -> None:
    try:
        fields = http.parse_http(data)
    except ParseError:
        return
    assert isinstance(fields["status"], int) and isinstance(fields["headers"], list)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_fuzz_parse_http_text_after_a_valid_head(text: str) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + text.encode("utf-8", "replace")
    fields = http.parse_http(raw)
    assert fields["status"] == 200
    assert "\0" not in str(fields.get("title", "")) + str(fields.get("body", ""))
    favicon.icon_href(text)


def test_every_python_codec_name_as_charset() -> None:
    names = set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    for name in sorted(names):
        raw = response(b"HTTP/1.1 200 OK\nContent-Type: text/html; charset=" + name.encode()
                       + b"\n", b"<title>\xff\xfe\x00x\\u12</title>")
        assert http.parse_http(raw)["status"] == 200, name


def test_hostile_page_costs_little_time() -> None:
    body = b"<title>" * 9000 + b"<link rel=icon href=" * 3000
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    started = time.monotonic()
    fields = http.parse_http(raw)
    assert favicon.icon_href(body.decode()) is None and "title" not in fields
    assert time.monotonic() - started < 1.0
