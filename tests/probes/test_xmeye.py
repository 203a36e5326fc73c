"""XMeye/Sofia probe: real SystemInfo from OpenIPC/python-dvr, framing, fuzzing, transport."""

from __future__ import annotations

import asyncio
import json
import struct
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, make_net, replay, tcp_server

from camaudit.errors import ParseError
from camaudit.probes import xmeye
from camaudit.probes.base import Credentials

# shared/fixtures xiongmai-dvrip-systeminfo-hi3516ev300-85h50ai.json: OpenIPC/python-dvr
# README.md at 578985c46b3bfa465212ff295dbd176ddef4b0ba (MIT), a real get_system_info().
SAMPLE = json.loads((Path(__file__).parent / "samples" /
                     "xiongmai-dvrip-systeminfo-hi3516ev300-85h50ai.json").read_text())
SYSTEM_INFO = json.loads(SAMPLE["response"])


def frame(body: dict[str, Any], msg_id: int = 1021, session: int = 0) -> bytes:
    """A device reply in python-dvr's framing ("BB2xII2xHI", JSON, "\\n\\0")."""
    payload = json.dumps(body).encode() + b"\n\x00"
    return struct.pack("<BB2xII2xHI", 0xFF, 1, session, 0, msg_id, len(payload)) + payload


REPLY = frame({"Name": "SystemInfo", "Ret": 100, "SessionID": "0x00000000",
               "SystemInfo": SYSTEM_INFO})


def test_real_system_info_is_read() -> None:
    fields = xmeye.parse_reply(REPLY)
    assert fields["recognised"] is True and fields["ret"] == 100
    assert fields["model"] == "HI3516EV300_85H50AI"
    assert fields["firmware"] == "V5.00.R02.000529B2.10010.040600.0020000"
    assert fields["serial"] == "a166379674a3b447"
    assert fields["build_time"] == "2020-01-08 11:05:18"


def test_login_required_reply_is_still_sofia() -> None:
    fields = xmeye.parse_reply(frame({"Name": "", "Ret": 105, "SessionID": "0x00000000"}))
    assert fields["recognised"] is True and fields["ret"] == 105
    assert "model" not in fields


def test_requests_match_python_dvr_framing() -> None:
    req = xmeye.system_info_request()
    head, version, session, seq, msg_id, length = struct.unpack("<BB2xII2xHI", req[:20])
    assert (head, version, session, seq, msg_id) == (0xFF, 0, 0, 0, 1020)
    assert req[20:].endswith(b"\n\x00") and length == len(req) - 20
    assert json.loads(req[20:-2]) == {"Name": "SystemInfo", "SessionID": "0x00000000"}


def test_sofia_hash_of_empty_password() -> None:
    # sofia-netsurv/python-netsurv connect.py logs in as admin with PassWord "tlJwpbo6",
    # the folding of the empty factory password.
    assert xmeye.sofia_hash("") == "tlJwpbo6"


def test_not_sofia() -> None:
    assert xmeye.parse_reply(b"HTTP/1.1 200 OK\r\n\r\n")["recognised"] is False
    assert xmeye.parse_reply(REPLY[:30])["recognised"] is False
    assert xmeye.parse_reply(frame({"Ret": True}))["recognised"] is False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz(data: bytes) -> None:
    try:
        fields = xmeye.parse_reply(data)
    except ParseError:
        assert data == b""
        return
    assert isinstance(fields["recognised"], bool)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_json_payload(text: str) -> None:
    payload = text.encode("utf-8", "surrogatepass") + b"\n\x00"
    data = struct.pack("<BB2xII2xHI", 0xFF, 0, 0, 0, 1021, len(payload)) + payload
    fields = xmeye.parse_reply(data)
    assert fields["recognised"] == ("ret" in fields)
    assert xmeye.session_of(data) is None or isinstance(xmeye.session_of(data), int)


def test_run_without_credentials_sends_one_request() -> None:
    seen = Seen()

    async def scenario() -> list:
        async with tcp_server(replay(REPLY, seen=seen)) as port:
            return await xmeye.run(make_net(), HOST, port)

    obs = asyncio.run(scenario())
    assert seen.requests == [xmeye.system_info_request()]
    assert obs[0].fields["serial"] == "a166379674a3b447"


def test_run_with_operator_credentials_logs_in_first() -> None:
    seen = Seen()
    login_ok = frame({"Ret": 100, "SessionID": "0x0000002A", "AliveInterval": 20}, 1001, 42)

    async def scenario() -> list:
        async with tcp_server(replay(login_ok, REPLY, seen=seen)) as port:
            net = make_net(credentials=Credentials("admin", "secret"))
            return await xmeye.run(net, HOST, port)

    obs = asyncio.run(scenario())
    login = json.loads(seen.requests[0][20:-2])
    assert login["UserName"] == "admin" and login["PassWord"] == xmeye.sofia_hash("secret")
    assert b"secret" not in seen.requests[0]
    assert struct.unpack("<I", seen.requests[1][4:8])[0] == 42  # session carried over
    assert json.loads(seen.requests[1][20:-2])["SessionID"] == "0x0000002A"
    assert obs[0].fields["recognised"] is True
