"""Line-by-line reading of text exports (neighbour tables, lease files), bounded and with offsets.

Every text source is read the same way: binary lines of at most
:data:`MAX_LINE` bytes (a longer line is cut into pieces, which then simply
match nothing), decoded as UTF-8 with replacement, with the byte offset of
each line for error messages. A NUL byte means the file is not text: that is
an :class:`camaudit.errors.IngestError` at its offset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from camaudit.ingest.records import bad_input

#: Longest line read at once.
MAX_LINE = 64 * 1024


def lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """(offset, text without the line end) for each line of `stream`."""
    offset = 0
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            return
        nul = raw.find(b"\0")
        if nul >= 0:
            raise bad_input(name, offset + nul, "binary data (NUL byte) in a text file")
        yield offset, raw.decode("utf-8", "replace").rstrip("\r\n")
        offset += len(raw)
