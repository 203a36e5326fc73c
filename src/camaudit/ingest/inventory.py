"""Inventories (CSV, XLSX): what a person says each device is, as claims.

A facilities sheet ("Make", "Model", "IP", "MAC", "Location") is evidence of
a different kind: nobody asked the device. Each row becomes an ``inventory``
observation with ``source="claim"`` (fields ``make``, ``model``, ``firmware``,
``serial``, ``location``, ``label``, ``mac``, and ``file``/``row`` so that a
finding can cite the sheet), keyed by the row's address — or by its MAC when
the row has none, joining the host another source binds that MAC to. A claim
never binds a MAC to an address itself. Rows with neither are counted, not kept.

Columns are found by header guess (:data:`HEADERS`, case, spaces and
punctuation ignored; the header row may follow a few title rows), and
``--map FIELD=Header`` overrides the guess for sheets in other words or
languages. CSV is read as a stream (delimiter sniffed among ``, ; TAB |``;
UTF-8 with or without BOM, else Windows-1252); XLSX through openpyxl's
read-only, row-streaming mode, every sheet until one has a recognisable header.

Sources (checked 2026-11-25): RFC 4180 (CSV, https://www.rfc-editor.org/rfc/rfc4180)
and Python's ``csv`` module for its dialects; ECMA-376 Office Open XML (XLSX) as read
by openpyxl 3.1 (https://openpyxl.readthedocs.io/en/stable/optimized.html, read-only mode).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from camaudit.errors import IngestError, UsageError
from camaudit.ingest.records import ByMac, Record, bad_input, norm_address, norm_mac
from camaudit.model import FieldValue, Observation

FIELDS = ("address", "mac", "make", "model", "firmware", "serial", "location", "label")
#: Header spellings (normalised: lower case, letters and digits only) per field.
HEADERS: dict[str, tuple[str, ...]] = {
    "address": ("ip", "ipaddress", "ipaddr", "ipv4", "ipv4address", "address", "hostip",
                "deviceip", "cameraip", "networkaddress"),
    "mac": ("mac", "macaddress", "macaddr", "hwaddress", "hardwareaddress",
            "physicaladdress", "ethernetaddress"),
    "make": ("make", "manufacturer", "vendor", "brand", "maker", "mfr", "mfg", "oem"),
    "model": ("model", "modelnumber", "modelno", "modelname", "product", "partnumber"),
    "firmware": ("firmware", "firmwareversion", "fw", "fwversion", "softwareversion",
                 "software", "version"),
    "serial": ("serial", "serialnumber", "serialno", "sn"),
    "location": ("location", "site", "room", "area", "building", "floor", "position",
                 "place", "mountedat"),
    "label": ("name", "label", "devicename", "cameraname", "assettag", "asset", "tag",
              "description", "hostname", "id"),
}
#: Rows searched for the header; cells and values kept per row.
HEADER_ROWS = 20
MAX_VALUE = 256
MAX_CELLS = 256
#: Largest CSV field read (csv's default limit, stated).
MAX_FIELD = 128 * 1024


def _key(text: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


def parse_map(specs: Iterable[str]) -> dict[str, str]:
    """``--map FIELD=Header`` options -> {field: normalised header}; UsageError if malformed."""
    out: dict[str, str] = {}
    for spec in specs:
        field, sep, header = spec.partition("=")
        field = field.strip().lower()
        aliases = {"ip": "address", "make": "make", "manufacturer": "make", "name": "label"}
        field = aliases.get(field, field)
        if not sep or field not in FIELDS or not header.strip():
            raise UsageError(f"--map {spec!r}: expected FIELD=Header with FIELD one of "
                             f"{', '.join(FIELDS)}")
        out[field] = _key(header)
    return out


def find_columns(cells: list[object], mapping: Mapping[str, str]) -> dict[str, int] | None:
    """Column index per field if `cells` looks like a header row (address or MAC + one more)."""
    keys = [_key(c) if c is not None else "" for c in cells[:MAX_CELLS]]
    columns: dict[str, int] = {}
    for field, header in mapping.items():
        if header in keys:
            columns[field] = keys.index(header)
    taken = set(columns.values())
    for field in FIELDS:
        if field in columns:
            continue
        for i, key in enumerate(keys):
            if key and key in HEADERS[field] and i not in taken:
                columns[field] = i
                taken.add(i)
                break
    if ("address" in columns or "mac" in columns) and len(columns) >= 2:
        return columns
    return None


def _cell(value: object) -> str | None:
    if value is None:
        return None
    text = "".join(ch for ch in str(value) if ch.isprintable()).strip()[:MAX_VALUE]
    return text or None


def row_record(cells: list[object], columns: Mapping[str, int], name: str,
               row: int) -> Record | None:
    """One data row -> an ``inventory`` claim keyed by address (else MAC), or None."""
    values = {f: _cell(cells[i]) if i < len(cells) else None for f, i in columns.items()}
    address = norm_address(values.get("address"))
    mac = norm_mac(values.get("mac"))
    if address is None and mac is None:
        return None
    fields: dict[str, FieldValue] = {"file": name[-MAX_VALUE:], "row": row}
    for field in FIELDS[2:]:
        if values.get(field):
            fields[field] = values[field]
    if mac is not None:
        fields["mac"] = mac
    raw = ",".join("" if c is None else str(c) for c in cells[:MAX_CELLS]).encode()[:4096]
    obs = Observation(address=address or "", port=None, probe="inventory", fields=fields,
                      raw=raw, source="claim")
    if address is None and mac is not None:
        return ByMac(mac, obs)
    return obs


def _rows_to_records(rows: Iterator[list[Any]], name: str,
                     mapping: Mapping[str, str]) -> Iterator[Record]:
    columns: dict[str, int] | None = None
    number = 0
    for number, cells in enumerate(rows, start=1):
        if columns is None:
            columns = find_columns(cells, mapping)
            if columns is None and number >= HEADER_ROWS:
                break
            continue
        record = row_record(cells, columns, name, number)
        if record is not None:
            yield record
    if columns is None:
        raise bad_input(name, 0, "no header row with an IP or MAC column in the first "
                        f"{HEADER_ROWS} rows (name the columns with --map FIELD=Header)")


def _decode(stream: BinaryIO) -> io.TextIOWrapper:
    head = stream.read(64 * 1024)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the buffer end
            encoding = "cp1252"
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def _dialect(sample: str) -> type[csv.Dialect] | str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return "excel"


def parse_csv(stream: BinaryIO, name: str,
              mapping: Mapping[str, str] | None = None) -> Iterator[Record]:
    """Claims from a CSV inventory, row by row."""
    text = _decode(stream)
    sample = text.read(16 * 1024)
    text.seek(0)
    reader = csv.reader(text, _dialect(sample))
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        def rows() -> Iterator[list[Any]]:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise bad_input(name, reader.line_num,
                                    f"unreadable CSV line {reader.line_num}: {exc}") from exc
                yield list(row[:MAX_CELLS])
        yield from _rows_to_records(rows(), name, mapping or {})
    finally:
        csv.field_size_limit(previous)
        text.detach()


def _sheet_rows(sheet: Any, name: str) -> Iterator[list[Any]]:
    """Rows of one read-only sheet; zip and XML damage becomes IngestError."""
    try:
        for row in sheet.iter_rows(values_only=True):
            yield list(row[:MAX_CELLS])
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError, SyntaxError) as exc:
        raise bad_input(name, 0, f"unreadable sheet {sheet.title!r} "
                        f"({type(exc).__name__})") from exc


def parse_xlsx(stream: BinaryIO, name: str,
               mapping: Mapping[str, str] | None = None) -> Iterator[Record]:
    """Claims from the first sheet of an XLSX workbook that has a recognisable header."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError,
            EOFError, SyntaxError) as exc:
        raise bad_input(name, 0, f"not a readable XLSX workbook ({type(exc).__name__})") \
            from exc
    last: IngestError | None = None
    try:
        for sheet in book.worksheets:
            try:
                # _rows_to_records yields nothing before it has found the header, so a
                # sheet without one fails here before any record went out.
                yield from _rows_to_records(_sheet_rows(sheet, name),
                                            f"{name}[{sheet.title}]", mapping or {})
                return
            except IngestError as exc:
                if "unreadable sheet" in str(exc):
                    raise
                last = exc
    finally:
        book.close()
    raise last or bad_input(name, 0, "workbook has no sheet")
