"""Favicon hashes and the icon link of a page, sans-IO.

A camera's web UI ships the maker's favicon even when the page is rebranded,
so the icon's hash is a cheap maker telltale. We compute the two hashes that
public fingerprint sets use:

- ``favicon_md5``: lower-case hex MD5 of the icon bytes, as nmap's
  http-favicon script and its ``nselib/data/favicon-db`` do (nmap/nmap
  ``scripts/http-favicon.nse``, commit 000f6dc4d9078745ce2dbcdb5957d5d99f21fb4e,
  checked 2026-11-25; nmap prints it upper-case, we normalise to lower).
- ``favicon_mmh3``: Shodan's ``http.favicon.hash``: signed 32-bit MurmurHash3
  (seed 0) of ``base64.encodebytes(icon)``, i.e. base64 with a newline every
  76 characters and at the end (the recipe published with Shodan's favicon
  search and reproduced in many tools, e.g. jessejameslink/Toolsbugbounty
  ``Scripsgeral/favicon.sh``; checked 2026-11-25).

Where the icon lives follows nmap's http-favicon: the first ``<link>`` whose
``rel`` contains the word ``icon`` on the root page, else ``/favicon.ico``;
a link that points at another host or port is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import re

import mmh3

#: Longest page prefix searched for the icon link.
MAX_SCAN = 64 * 1024
#: Longest href kept.
MAX_HREF = 1024

_LINK_RE = re.compile(r"<\s*link\b([^<>]{0,2048})>", re.IGNORECASE)
_ATTR_RE = re.compile(
    r"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def favicon_hashes(data: bytes) -> dict[str, str | int]:
    """MD5 hex and Shodan mmh3 of a complete icon body."""
    return {
        "favicon_md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "favicon_mmh3": int(mmh3.hash(base64.encodebytes(data))),
    }


def icon_href(html: str) -> str | None:
    """The href of the first ``<link rel="... icon ...">`` in `html`, as written."""
    for link in _LINK_RE.finditer(html[:MAX_SCAN]):
        rel = href = None
        for attr in _ATTR_RE.finditer(link.group(1)):
            name = attr.group(1).lower()
            value = attr.group(2) if attr.group(2) is not None else (
                attr.group(3) if attr.group(3) is not None else attr.group(4))
            if name == "rel" and rel is None:
                rel = value
            elif name == "href" and href is None:
                href = value
        if rel and href and "icon" in rel.lower().split():
            href = href.strip()
            if href and len(href) <= MAX_HREF:
                return href
    return None
