"""Where a report's devices come from: a document in memory, or the store device by device.

Every format reads a camaudit/1 document (see document.py). A report of a
large estate must not hold that document in memory, so a format asks a
:class:`Source` for the document's ``scan`` object and then for its devices,
one at a time, in address order. :class:`DocSource` wraps a document already
loaded (a ``scan --json`` file, tests); :class:`StoreSource` reads the store a
batch at a time (``Store.iter_devices``) and turns each device into its JSON
form, so memory does not grow with the number of devices. The documents a
``docs scan`` read (``documents[]``, few beside the devices) are read whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from camaudit.report.document import DeviceDoc, Doc, scan_info

if TYPE_CHECKING:
    from camaudit.store import Store


class Source(Protocol):
    """A camaudit/1 document that can be read device by device (more than once)."""

    def scan(self) -> dict[str, Any]:
        """The document's ``scan`` object."""
        ...

    def devices(self) -> Iterator[DeviceDoc]:
        """The document's devices in order; each call starts again from the first."""
        ...

    def documents(self) -> list[dict[str, Any]]:
        """The document's ``documents`` (what ``docs scan`` read); empty when there are none."""
        ...

    def document(self) -> Doc:
        """The whole document in memory, for the formats that still need it (CycloneDX)."""
        ...


class DocSource:
    """A document already in memory."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc

    def scan(self) -> dict[str, Any]:
        return scan_info(self.doc)

    def devices(self) -> Iterator[DeviceDoc]:
        yield from self.doc.get("devices") or []

    def documents(self) -> list[dict[str, Any]]:
        return list(self.doc.get("documents") or [])

    def document(self) -> Doc:
        return self.doc


class StoreSource:
    """One scan of the store, read a batch of devices at a time.

    Not checked against the schema device by device: the store writes the
    contract's own records (``Device.to_json``), and the check of a whole
    document is what a report of 50,000 devices cannot afford.
    """

    def __init__(self, store: Store, scan_id: int) -> None:
        self.store = store
        self.scan_id = scan_id
        self._scan: dict[str, Any] | None = None
        self._documents: list[dict[str, Any]] | None = None

    def scan(self) -> dict[str, Any]:
        if self._scan is None:
            from camaudit.output import build_document

            head = build_document(self.store.scan(self.scan_id), [],
                                  self.store.refusals(self.scan_id))
            self._scan = scan_info(head)
        return self._scan

    def devices(self) -> Iterator[DeviceDoc]:
        for device in self.store.iter_devices(self.scan_id):
            yield device.to_json()

    def documents(self) -> list[dict[str, Any]]:
        if self._documents is None:
            self._documents = self.store.documents(self.scan_id)
        return self._documents

    def document(self) -> Doc:
        """The whole document in memory, for the formats that still need it (CycloneDX)."""
        doc: Doc = {"schema": "camaudit/1", "scan": self.scan()}
        if self.documents():  # as Store.document: the key only when documents were read
            doc["documents"] = self.documents()
        doc["devices"] = list(self.devices())
        return doc
