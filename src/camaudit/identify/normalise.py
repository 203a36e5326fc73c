"""Normal forms of device values, so that evidence from different probes agrees.

Models keep the vendor's spelling (only whitespace is tidied), firmware keeps
the vendor's version text ("V5.7.14 build 231028"), MACs become lower-case
colon form, makers take their knowledge/data/makers.yaml spelling (a vendor camaudit
does not know keeps the spelling of recog's vendor list), brands the spelling
of the OEM table, and vendor class words ("IPCamera", "NVR") become camaudit
classes. Placeholders a device sends when it does not know ("Unknown", "N/A",
a serial of zeros) are not values: they normalise to "".
"""

from __future__ import annotations

import re

from camaudit.identify import recog
from camaudit.identify.oem import brand_links
from camaudit.knowledge import makers as knowledge_makers
from camaudit.model import DEVICE_TYPES

_SPACE = re.compile(r"\s+")
_HEX = re.compile(r"[0-9a-fA-F]")
_PLACEHOLDERS = frozenset({"unknown", "n/a", "na", "none", "null", "-", "default", "0x0"})

#: Canonical maker names: those of knowledge/data/makers.yaml (docs/CONTRACTS.md).
MAKERS: tuple[str, ...] = tuple(m.name for m in knowledge_makers.all_makers())
_MAKER_BY_KEY = {m.casefold(): m for m in MAKERS}

#: Pseudo-class a rule may say for "serves live video" (camera, encoder or recorder alike);
#: fusion folds it into the best-supported video class (see fusion.py).
VIDEO = "video"

#: Vendor class words (as devices report them) -> camaudit device_type.
#: Sources: ISAPI deviceType IPCamera/NVR/DVR (maciej-or/hikvision_next fixtures),
#: Reolink GetDevInfo type IPC (reolinkapipy), Axis ProdType (Kane610/axis).
CLASS_WORDS: dict[str, str] = {
    "ipcamera": "camera", "ip camera": "camera", "ipc": "camera", "ipdome": "camera",
    "network camera": "camera", "ptz dome network camera": "camera",
    "thermal network camera": "camera",
    "nvr": "recorder", "dvr": "recorder", "xvr": "recorder",
    "video encoder": "encoder", "network video encoder": "encoder", "video decoder": "encoder",
}


def mac(value: str) -> str:
    """'AC-CC-8E-1A-90-9D' / 'accc8e1a909d' -> 'ac:cc:8e:1a:90:9d'; '' if not a MAC."""
    digits = "".join(_HEX.findall(value))
    stripped = re.sub(r"[\s:.\-]", "", value)
    if len(digits) != 12 or len(stripped) != 12 or digits == "0" * 12:
        return ""
    low = digits.lower()
    return ":".join(low[i:i + 2] for i in range(0, 12, 2))


def device_type(value: str) -> str:
    if value in DEVICE_TYPES or value == VIDEO:
        return value
    return CLASS_WORDS.get(value.casefold(), "")


def brand(value: str) -> str:
    """A maker's own name in its canonical spelling; an OEM brand as the OEM table spells it."""
    key = value.casefold()
    if key in _MAKER_BY_KEY:
        return _MAKER_BY_KEY[key]
    for link in brand_links():
        for alias in link.aliases:
            if alias.casefold() == key:
                return alias
    return value


#: (field, value) -> normal form, for the fields whose normal form reads only constants
#: (not the maker: the maker list may be reloaded). Rule hits say the same few values
#: over and over; short values only, emptied when full.
_MEMO: dict[tuple[str, str], str] = {}
_MEMO_MAX = 4096
_MEMO_VALUE_CAP = 256


def normalise(key: str, value: str) -> str:
    """Normal form of a value for device field `key` ('' when it is no value)."""
    if key == "manufacturer" or len(value) > _MEMO_VALUE_CAP:
        return _normalise(key, value)
    known = _MEMO.get((key, value))
    if known is None:
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        known = _MEMO[(key, value)] = _normalise(key, value)
    return known


def _normalise(key: str, value: str) -> str:
    text = _SPACE.sub(" ", value).strip(" ,;")
    if text.casefold() in _PLACEHOLDERS:
        return ""
    if key == "mac":
        return mac(text)
    if key == "device_type":
        return device_type(text)
    if key == "manufacturer":  # a maker we know, else a vendor of recog's vocabulary
        return knowledge_makers.canonical(text) or recog.vendor_name(text) or ""
    if key == "brand":
        return brand(text)
    if key == "serial" and set(text) <= {"0"}:
        return ""
    return text


def same_value(key: str, a: str, b: str) -> bool:
    """Whether two normalised values of field `key` name the same thing.

    Firmware strings agree when one is the other plus more words
    ("V5.7.14" and "V5.7.14 build 231028").
    """
    if key == "firmware":
        shorter, longer = sorted((a.casefold(), b.casefold()), key=len)
        return longer == shorter or longer.startswith(shorter + " ")
    return a.casefold() == b.casefold()
