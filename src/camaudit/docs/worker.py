"""Documents are read in a child process whose time and memory are bounded.

PDFium, libxml2 and Tesseract are C code reading hostile files: a crafted file may
loop, exhaust memory or crash the reader. Each document is therefore read by a worker
process started with ``spawn`` in its own session, with an address-space limit
(``RLIMIT_AS``); the parent waits at most ``Limits.timeout`` seconds for its answer,
then kills the worker's whole process group (Tesseract included) and starts a new one
for the next document. Whatever happens to one document, the batch goes on and the
document gets one line saying why it was not read.

The answer crosses the pipe as JSON, not pickle: a worker subverted by a hostile file
can send wrong text, never code the parent would run.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from camaudit.docs.pages import Extracted, Limits

_START_TIMEOUT = 60.0
#: Room for the JSON of the largest answer allowed (every character escaped).
_ANSWER_SLACK = 2 * 2**20


class Worker:
    """One reader process, started on first use and after each crash or timeout."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._process: Any = None
        self._conn: Connection | None = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _start(self) -> Connection:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=serve, args=(child, json.dumps(self.limits.to_json())),
                              name="camaudit-docs-reader", daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        return parent

    def extract(self, path: str, fmt_hint: str = "unknown") -> Extracted:
        """The text of `path`, or an Extracted whose error says why it was not read."""
        conn = self._conn or self._start()
        try:
            conn.send_bytes(json.dumps({"path": path}).encode())
            ready = conn.poll(self.limits.timeout)
        except (OSError, EOFError):
            ready = False
        if not ready:
            alive = self._process is not None and self._process.is_alive()
            self._kill()
            why = (f"reading took longer than {self.limits.timeout:.0f}s: stopped, not read"
                   if alive else self._death())
            return Extracted(fmt_hint, error=why)
        try:
            raw = conn.recv_bytes(self.limits.doc_chars * 6 + _ANSWER_SLACK)
            return Extracted.from_json(json.loads(raw))
        except (OSError, EOFError, ValueError, KeyError, TypeError):
            why = self._death()
            self._kill()
            return Extracted(fmt_hint, error=why)

    def _death(self) -> str:
        process = self._process
        if process is not None:
            process.join(2.0)
            code = process.exitcode
            if code is not None and code < 0:
                name = signal.Signals(-code).name if -code in signal.valid_signals() else code
                return f"the reader was killed by signal {name} (a crash or the memory limit)"
        return "the reader stopped without an answer (a crash or the memory limit)"

    def _kill(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return
        if process.pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        process.join(5.0)
        process.close()

    def close(self) -> None:
        """Stop the worker (it ends on its own when the pipe closes)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            process.join(5.0)
            if process.is_alive():
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.join(5.0)
            process.close()


def serve(conn: Connection, limits_json: str) -> None:
    """The worker's loop: one request (a path) in, one answer (JSON) out, until EOF."""
    limits = Limits(**json.loads(limits_json))
    os.setsid()  # its own process group: the parent can kill it with Tesseract
    _limit_memory(limits.memory)
    from camaudit.docs.extract import extract_file

    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            result = extract_file(str(request["path"]), limits)
        except MemoryError:
            result = Extracted("unknown", error=f"reading needs more than the memory limit "
                               f"({limits.memory // 2**20} MiB): not read")
        except Exception as exc:  # the boundary for hostile input: never stop the batch
            if os.environ.get("CAMAUDIT_DEBUG_DOCS"):
                traceback.print_exc(file=sys.stderr)
            result = Extracted("unknown", error=f"cannot be read ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:300]})")
        try:
            conn.send_bytes(json.dumps(result.to_json(), ensure_ascii=False).encode())
        except (OSError, ValueError):
            return


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX: the timeout still bounds it
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
