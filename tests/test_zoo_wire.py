"""The zoo's callback-driven request server (HTTP, RTSP) over real loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from camaudit.zoo.wire import MAX_HEAD, Head, Limits, RequestServer

HOST = "127.77.6.1"  # a corner of loopback no zoo and no other test uses
BAD = b"BAD\r\n\r\n"


def echo(head: Head, body: bytes) -> tuple[bytes, bool]:
    """Answers with the target and the body; closes after a request for /last."""
    reply = f"{head.method} {head.target} {len(body)}\n".encode() + body
    return reply, head.target != "/last"


def talk(chunks: list[bytes], answer: Callable[[Head, bytes], tuple[bytes, bool]] = echo,
         limits: Limits | None = None, pause: float = 0.05) -> tuple[bytes, int]:
    """Send `chunks` (a pause between them), read until the server closes or 2 s pass;
    (what came back, errors counted)."""
    errors: list[int] = []

    async def scenario() -> bytes:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: RequestServer(answer, BAD, limits or Limits(idle=1.0, lifetime=5.0),
                                  lambda: errors.append(1)), HOST, 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(HOST, port)
        got = b""
        try:
            for chunk in chunks:
                with contextlib.suppress(ConnectionError):  # the server may have closed
                    writer.write(chunk)
                    await writer.drain()
                await asyncio.sleep(pause)
            async with asyncio.timeout(2.0):
                while chunk := await reader.read(65536):
                    got += chunk
        except TimeoutError:
            got += b"<open>"
        except ConnectionError:
            pass
        finally:
            writer.close()
            server.close()
        return got

    return asyncio.run(scenario()), len(errors)


def test_requests_on_one_connection_split_and_pipelined() -> None:
    got, errors = talk([b"GET /a HTTP/1.1\r\n",
                        b"\r\nPOST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\nab",
                        b"cdGET /last HTTP/1.1\r\n\r\n"])
    assert got == b"GET /a 0\nPOST /b 4\nabcdGET /last 0\n" and errors == 0


def test_a_head_that_does_not_parse_is_answered_bad_and_closed() -> None:
    assert talk([b"nonsense\r\n\r\nGET /a HTTP/1.1\r\n\r\n"]) == (BAD, 0)


def test_an_oversized_head_is_refused() -> None:
    got, _ = talk([b"GET /a HTTP/1.1\r\nX: " + b"x" * MAX_HEAD + b"\r\n\r\n"])
    assert got == b""


def test_a_silent_client_is_closed_at_idle_and_a_missing_body_answered_without_it() -> None:
    limits = Limits(idle=0.3, lifetime=5.0)
    assert talk([], limits=limits) == (b"", 0)
    got, _ = talk([b"POST /b HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"], limits=limits)
    assert got == b"POST /b 0\n"


def test_an_empty_reply_closes_and_a_broken_answer_is_counted() -> None:
    assert talk([b"GET /a HTTP/1.1\r\n\r\n"], answer=lambda h, b: (b"", True)) == (b"", 0)

    def broken(head: Head, body: bytes) -> tuple[bytes, bool]:
        raise ValueError("persona bug")

    assert talk([b"GET /a HTTP/1.1\r\n\r\n"], answer=broken) == (b"", 1)


def test_lifetime_ends_a_connection_that_keeps_asking() -> None:
    chunks = [b"GET /a HTTP/1.1\r\n\r\n"] * 10
    got, _ = talk(chunks, limits=Limits(idle=1.0, lifetime=0.3), pause=0.1)
    assert got.count(b"GET /a 0\n") < 10 and not got.endswith(b"<open>")
