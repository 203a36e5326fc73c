"""nmap XML (``-oX``): hosts, open ports, service versions, script output, MAC and OS guesses.

Streamed with lxml ``iterparse``: each ``<host>`` element is turned into
records when it ends and then freed, so a file of any size costs the memory
of one host. A run that nmap did not finish (no ``</nmaprun>``, a host cut
short) keeps every complete host and ends in an
:class:`camaudit.errors.IngestError` naming the line, column and offset.

What becomes what (probe names of :mod:`camaudit.probes`, so the same
identify rules apply to nmap's findings as to ours):

- ``<address addrtype="ipv4|ipv6|mac">``, ``<hostnames>`` -> :class:`Seen`
  (address, MAC, host name) and every open port;
- ``<service>`` of an open port -> ``nmap`` (service, product, version,
  extrainfo, devicetype, ostype, cpe (list), method, tunnel);
- its ``servicefp`` (the fingerprint nmap writes for a service it could not
  name: the replies its probes earned, read by :mod:`camaudit.ingest.servicefp`)
  -> one observation per reply a camaudit probe parser reads, with the reply
  bytes as raw evidence: a reply starting ``HTTP/`` -> ``http`` (the HTTP probe's
  :func:`camaudit.probes.http.response_fields`; ``path`` ``/`` for GetRequest and
  HTTPOptions, ``error`` when nmap cut the reply) or, over UDP, ``upnp`` when it is
  an SSDP search response; ``RTSP/`` -> ``rtsp`` (:func:`camaudit.probes.rtsp.parse_response`,
  SDP fields included); the NULL probe's greeting (GenericLines' when NULL got
  none) -> ``banner``. Other replies (SIP, binary protocols) add nothing;
- the best ``<osmatch>`` -> ``nmap`` without a port (os, os_vendor, devicetype,
  cpe, accuracy);
- port scripts: ``http-title`` / ``http-server-header`` / ``http-headers`` /
  ``http-auth`` / ``http-favicon`` -> ``http``; ``ssl-cert`` (its PEM, read by
  :func:`camaudit.probes.tls.parse_certificate`) -> ``tls``; ``rtsp-methods``
  -> ``rtsp`` (public); ``banner`` -> ``banner`` (via
  :func:`camaudit.probes.banner.parse_banner`); ``upnp-info`` -> ``upnp``.

Sources (checked 2026-11-25; servicefp 2026-12-01):
- nmap XML DTD, ``docs/nmap.dtd`` in nmap/nmap (https://nmap.org/book/nmap-dtd.html):
  ``nmaprun > host > (status, address*, hostnames, ports > port > (state, service > cpe*,
  script*), os > osmatch > osclass > cpe*)``; service attributes name, product,
  version, extrainfo, ostype, devicetype, tunnel, method, conf, servicefp (its format and
  how nmap writes it: :mod:`camaudit.ingest.servicefp`).
- NSE script output in XML, ``<script id output>`` with structured ``<elem key>`` and
  ``<table key>`` children (https://nmap.org/book/nsedoc-structured.html); keys used here:
  ``http-title`` ``title``/``redirect_url``, ``ssl-cert`` ``pem``, as written by
  ``scripts/http-title.nse`` and ``scripts/ssl-cert.nse`` (nmap 7.x).
- Output formats of ``http-headers``, ``http-auth``, ``http-favicon``, ``rtsp-methods``,
  ``upnp-info`` and ``banner``: their NSEDoc pages at https://nmap.org/nsedoc/scripts/.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from lxml import etree

from camaudit.errors import ParseError
from camaudit.ingest import servicefp
from camaudit.ingest.records import Record, Seen, bad_input, norm_address, norm_mac
from camaudit.model import FieldValue, Observation
from camaudit.probes import banner as bannerprobe
from camaudit.probes import httpauth, tls

MAX_VALUE = 512
MAX_OUTPUT = 16 * 1024
MAX_LIST = 32
_HEAD = 64 * 1024
_DTD_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.I)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)
_UPNP_KEYS = {"server": "server", "location": "location", "name": "friendly_name",
              "manufacturer": "manufacturer", "model name": "model_name",
              "model version": "model_number", "model descr": "model_description",
              "serial": "serial"}

Mapper = Callable[[etree._Element, str, dict[str, FieldValue]],
                  tuple[str, dict[str, FieldValue]] | None]


class _Counting:
    """A read-only stream wrapper that knows how many bytes the parser has taken."""

    def __init__(self, stream: BinaryIO, head: bytes = b"") -> None:
        self.stream = stream
        self.head = head
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 64 * 1024
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
        else:
            data = self.stream.read(size)
        self.offset += len(data)
        return data


def _text(value: str | None, limit: int = MAX_VALUE) -> str:
    return "".join(ch for ch in (value or "") if ch.isprintable() or ch in "\n\t")[:limit]


def _elem(script: etree._Element, key: str) -> str | None:
    for el in script.iter("elem"):
        if el.get("key") == key and el.text:
            return str(el.text)
    return None


def _title(script: etree._Element, output: str, tls_: dict[str, FieldValue]
           ) -> tuple[str, dict[str, FieldValue]] | None:
    title = _elem(script, "title")
    if title is None:
        if output.startswith("Site doesn't have a title") or "Did not follow redirect" \
                in output:
            return None
        title = output.strip().splitlines()[0] if output.strip() else None
    fields: dict[str, FieldValue] = {"path": "/", **tls_}
    if title:
        fields["title"] = _text(title.strip(), 256)
    redirect = _elem(script, "redirect_url")
    if redirect:
        fields["location"] = _text(redirect)
    return ("http", fields) if len(fields) > 1 + len(tls_) else None


def _headers(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines()
            if ":" in line and not line.strip().startswith("(")][:64]


def _header_fields(script: etree._Element, output: str, tls_: dict[str, FieldValue]
                   ) -> tuple[str, dict[str, FieldValue]] | None:
    headers = _headers(output)
    if not headers:
        return None
    fields: dict[str, FieldValue] = {"path": "/", **tls_, "headers": [_text(h) for h in headers]}
    for header in headers:
        name, _, value = header.partition(":")
        low = name.strip().lower()
        if low == "server":
            fields.setdefault("server", _text(value.strip()))
        elif low == "www-authenticate":
            _add_challenge(fields, value)
        elif low == "content-type":
            fields.setdefault("content_type", _text(value.strip()))
    return "http", fields


def _add_challenge(fields: dict[str, FieldValue], text: str) -> None:
    challenges = httpauth.parse_challenges(text.strip())
    if challenges and "auth_scheme" not in fields:
        fields["auth_scheme"] = challenges[0].scheme[:64]
        realm = next((c.realm for c in challenges if c.realm is not None), None)
        if realm is not None:
            fields["realm"] = _text(realm)


def _server_header(script: etree._Element, output: str, tls_: dict[str, FieldValue]
                   ) -> tuple[str, dict[str, FieldValue]] | None:
    value = next((el.text for el in script.iter("elem") if el.text), None) or output.strip()
    return ("http", {"path": "/", **tls_, "server": _text(value.strip())}) if value else None


def _auth(script: etree._Element, output: str, tls_: dict[str, FieldValue]
          ) -> tuple[str, dict[str, FieldValue]] | None:
    fields: dict[str, FieldValue] = {"path": "/", **tls_}
    for line in output.splitlines():
        line = line.strip()
        if m := re.match(r"HTTP/\d\.\d (\d{3})", line):
            fields.setdefault("status", int(m.group(1)))
        elif line and not line.startswith(("HTTP/", "(")):
            _add_challenge(fields, line)
    return ("http", fields) if "auth_scheme" in fields else None


def _favicon(script: etree._Element, output: str, tls_: dict[str, FieldValue]
             ) -> tuple[str, dict[str, FieldValue]] | None:
    m = re.search(r"\b([0-9A-Fa-f]{32})\b", output)
    return ("http", {"path": "/favicon.ico", **tls_, "favicon_md5": m.group(1).lower()}) \
        if m else None


def _ssl_cert(script: etree._Element, output: str, tls_: dict[str, FieldValue]
              ) -> tuple[str, dict[str, FieldValue]] | None:
    pem = _elem(script, "pem") or output
    m = _PEM.search(pem)
    if m is None:
        return None
    try:
        der = base64.b64decode("".join(m.group(1).split()), validate=True)
        return "tls", tls.parse_certificate(der)
    except (binascii.Error, ValueError):
        return "tls", {"error": "ssl-cert: PEM is not base64"}
    except ParseError as exc:
        return "tls", {"error": _text(str(exc))}


def _rtsp_methods(script: etree._Element, output: str, tls_: dict[str, FieldValue]
                  ) -> tuple[str, dict[str, FieldValue]] | None:
    methods = [m.strip()[:32] for m in re.split(r"[,\s]+", output) if m.strip().isalpha()]
    return ("rtsp", {"method": "OPTIONS", "public": methods[:MAX_LIST]}) if methods else None


def _upnp(script: etree._Element, output: str, tls_: dict[str, FieldValue]
          ) -> tuple[str, dict[str, FieldValue]] | None:
    fields: dict[str, FieldValue] = {}
    for line in output.splitlines():
        key, sep, value = line.strip().partition(":")
        name = _UPNP_KEYS.get(key.strip().lower())
        if sep and name and value.strip():
            fields.setdefault(name, _text(value.strip()))
    return ("upnp", fields) if fields else None


_SCRIPTS: dict[str, Mapper] = {
    "http-title": _title, "http-headers": _header_fields, "http-server-header": _server_header,
    "http-auth": _auth, "http-favicon": _favicon, "ssl-cert": _ssl_cert,
    "rtsp-methods": _rtsp_methods, "upnp-info": _upnp,
}


def _time(host: etree._Element) -> datetime:
    for attr in ("endtime", "starttime"):
        value = host.get(attr)
        if value and value.isdigit() and len(value) <= 11:
            return datetime.fromtimestamp(int(value), UTC)
    return datetime.now(UTC)


def _service(service: etree._Element) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {}
    for attr, key in (("name", "service"), ("product", "product"), ("version", "version"),
                      ("extrainfo", "extrainfo"), ("devicetype", "devicetype"),
                      ("ostype", "ostype"), ("method", "method"), ("tunnel", "tunnel")):
        value = service.get(attr)
        if value:
            fields[key] = _text(value)
    cpes = [_text(c.text) for c in service.iter("cpe") if c.text][:MAX_LIST]
    if cpes:
        fields["cpe"] = cpes
    return fields


def _port_records(address: str, port_el: etree._Element, when: datetime) -> Iterator[Record]:
    state = port_el.find("state")
    portid = port_el.get("portid", "")
    if state is None or state.get("state") not in ("open", "open|filtered") \
            or not portid.isdigit() or not 0 < int(portid) < 65536:
        return
    port = int(portid)
    if port_el.get("protocol") == "tcp" and state.get("state") == "open":
        yield Seen(address=address, ports=(port,))
    service = port_el.find("service")
    tls_: dict[str, FieldValue] = {}
    if service is not None:
        fields = _service(service)
        if port_el.get("protocol") == "udp":
            fields["protocol"] = "udp"
        if service.get("tunnel") == "ssl" or service.get("name") == "https":
            tls_ = {"tls": True}
        yield Observation(address=address, port=port, probe="nmap", fields=fields,
                          raw=etree.tostring(service)[:4096], time=when, source="passive")
        text = service.get("servicefp")
        if text:
            yield from _fingerprint_records(address, port, text, when, tls=bool(tls_),
                                            udp=port_el.get("protocol") == "udp")
    for script in port_el.iter("script"):
        output = _text(script.get("output"), MAX_OUTPUT)
        raw = etree.tostring(script)[:MAX_OUTPUT]
        sid = script.get("id", "")
        if sid == "banner":
            try:
                fields = bannerprobe.parse_banner(output.encode(), port)
            except ParseError:
                continue
            yield Observation(address=address, port=port, probe="banner", fields=fields,
                              raw=raw, time=when, source="passive")
            continue
        mapper = _SCRIPTS.get(sid)
        result = mapper(script, output, tls_) if mapper else None
        if result is not None:
            probe, fields = result
            yield Observation(address=address, port=port, probe=probe, fields=fields,
                              raw=raw, time=when, source="passive")


def _fingerprint_records(address: str, port: int, text: str, when: datetime, *,
                         tls: bool, udp: bool) -> Iterator[Observation]:
    """The replies of a service fingerprint, read by camaudit's own probe parsers.

    The raw bytes kept are the reply as nmap recorded it (so the evidence hash is
    that of the reply); `raw_size` is the length nmap declared, larger when nmap
    cut the reply. A fingerprint that cannot be read adds nothing: the ``nmap``
    observation of the service (which holds the text) stays.
    """
    try:
        fingerprint = servicefp.parse(text)
    except ParseError:
        return
    for probe, fields, reply in servicefp.readings(fingerprint, port, tls=tls, udp=udp):
        yield Observation(address=address, port=port, probe=probe, fields=fields,
                          raw=reply.data, raw_size=reply.declared, time=when, source="passive")


def _os_record(address: str, host: etree._Element, when: datetime) -> Observation | None:
    best = None
    for match in host.iterfind("os/osmatch"):
        accuracy = match.get("accuracy", "0")
        if accuracy.isdigit() and (best is None or int(accuracy) > int(best.get("accuracy"))):
            best = match
    if best is None:
        return None
    fields: dict[str, FieldValue] = {"os": _text(best.get("name")),
                                     "accuracy": int(best.get("accuracy", "0"))}
    osclass = best.find("osclass")
    if osclass is not None:
        if osclass.get("vendor"):
            fields["os_vendor"] = _text(osclass.get("vendor"))
        if osclass.get("type"):
            fields["devicetype"] = _text(osclass.get("type"))
    cpes = [_text(c.text) for c in best.iter("cpe") if c.text][:MAX_LIST]
    if cpes:
        fields["cpe"] = cpes
    return Observation(address=address, port=None, probe="nmap", fields=fields,
                       raw=etree.tostring(best)[:4096], time=when, source="passive")


def host_records(host: etree._Element) -> Iterator[Record]:
    """Records of one complete ``<host>`` element (hosts that are down give none)."""
    status = host.find("status")
    if status is not None and status.get("state") not in (None, "up"):
        return
    address = mac = None
    for addr in host.iterfind("address"):
        kind = addr.get("addrtype")
        if kind in ("ipv4", "ipv6") and address is None:
            address = norm_address(addr.get("addr"))
        elif kind == "mac":
            mac = norm_mac(addr.get("addr"))
    if address is None:
        return
    hostname = next((h.get("name") for h in host.iterfind("hostnames/hostname")
                     if h.get("name")), None)
    yield Seen(address=address, mac=mac, hostname=hostname)
    when = _time(host)
    for port_el in host.iterfind("ports/port"):
        yield from _port_records(address, port_el, when)
    os_obs = _os_record(address, host, when)
    if os_obs is not None:
        yield os_obs


def parse_nmap_xml(stream: BinaryIO, name: str) -> Iterator[Record]:
    """Records of every complete host of an nmap XML file, streamed."""
    head = stream.read(_HEAD)
    # nmap writes <!DOCTYPE nmaprun> without an internal subset; one with entity
    # declarations is refused outright (entity expansion is a memory bomb).
    if _DTD_SUBSET.search(head):
        raise bad_input(name, _DTD_SUBSET.search(head).start(),  # type: ignore[union-attr]
                        "XML with an internal DTD subset (entity declarations) refused")
    counting = _Counting(stream, head)
    parser = etree.iterparse(counting, events=("start", "end"), resolve_entities=False,
                             no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    root_seen = False
    try:
        for event, el in parser:
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if el.tag != "nmaprun":
                        raise bad_input(name, 0, f"root element is <{str(el.tag)[:40]}>, "
                                        "not <nmaprun> (not an nmap -oX file)")
                continue
            if el.tag != "host":
                continue
            yield from host_records(el)
            el.clear(keep_tail=False)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (0, 0)
        why = "file ends before </nmaprun> (nmap interrupted or file truncated)" \
            if "end of data" in str(exc).lower() or "premature" in str(exc).lower() \
            else f"malformed XML ({_text(str(exc), 120)})"
        raise bad_input(name, counting.offset, f"{why}, line {line} column {column}") \
            from exc
    if not root_seen:
        raise bad_input(name, 0, "empty file")
