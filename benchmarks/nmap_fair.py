"""nmap's own answers, read from its XML (-oX), mapped to camaudit's fields to score them.

The mapping is meant to be generous but fair: it uses only what nmap itself
says (service ``product``, ``extrainfo``, ``devicetype``, CPE vendor, and
the "Service Info" device type), never camaudit's knowledge.

device_type, per host, from every open port's service:
  - ``recorder`` if a product/extrainfo names NVR, DVR, XVR, HVR or a video recorder;
  - ``encoder`` if it names a video server or video encoder;
  - ``vms`` if it names a video management product (Digifort, Milestone
    XProtect, Genetec, Nx Witness, Blue Iris, "VMS");
  - ``camera`` if devicetype is ``webcam``/``security-misc`` or a product names
    a camera, webcam or IPCam;
  - ``other`` if nmap gave some other device type (printer, router, phone,
    storage, media device, ...);
  - else null. Surveillance classes win over ``other`` (a camera whose odd
    port nmap took for a router counts as a camera), recorder over camera.
manufacturer: the maker nmap names in a product string or a CPE vendor
  (e.g. "Hikvision IP camera httpd", cpe:/h:dahua:...), mapped to the
  manifest's spelling; the most named one per host wins. nmap does not
  resolve OEM labels: if it names a brand ("Lorex"), that is what it said.
  A server name that only camaudit's rules tie to a maker (uc-httpd ->
  Xiongmai) is not nmap naming the maker, so it does not count.
model and firmware (added for benchmarks/realbanners.py): the product of nmap's first
  hardware CPE (cpe:/h:vendor:product) and the version of its first OS CPE
  (cpe:/o:vendor:product:version); nmap states nothing else about them.
Zoo artefacts are left out, in nmap's favour: the zoo's HTTP servers answer a
request they cannot parse with a bare "HTTP/1.1 400 Bad Request" and
"Content-Length: 0", which nmap's signature for an AVM FRITZ!Box TR-069
service matches (nmap-service-probes: ``p/FRITZ!Box TR-069 service/``). Real
cameras answer with their own headers, so such a match is ignored rather than
counted as nmap calling a camera a router. The real-banners benchmark turns this filter
off (`device(..., artefacts=frozenset())`): its replies are real devices' own.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from defusedxml import ElementTree

#: Maker names as nmap spells them (product text or CPE vendor) -> manifest spelling.
MAKERS: tuple[tuple[str, str], ...] = (
    (r"hikvision", "Hikvision"), (r"dahua", "Dahua"), (r"\baxis\b", "Axis"),
    (r"\bbosch\b", "Bosch"), (r"hanwha|samsung techwin|wisenet", "Hanwha Vision"),
    (r"uniview|\bunv\b", "Uniview"), (r"milesight", "Milesight"), (r"mobotix", "Mobotix"),
    (r"reolink", "Reolink"), (r"ubiquiti|unifi", "Ubiquiti"), (r"xiongmai", "Xiongmai"),
    (r"\btvt\b", "TVT"), (r"digifort", "Digifort"), (r"amcrest", "Amcrest"),
    (r"\blorex\b", "Lorex"), (r"\blaview\b", "LaView"), (r"\bannke\b", "Annke"),
    (r"\blts\b", "LTS"), (r"brother", "Brother"), (r"\bhp\b|hewlett|hp-chai", "HP"),
    (r"mikrotik", "MikroTik"), (r"polycom", "Polycom"), (r"synology", "Synology"),
    (r"fritz|\bavm\b", "AVM"),
)
#: Makers of the held-out decoys (benchmarks/realbanners.py), added so that nmap is credited
#: when it names them. Matched in product/extrainfo text and in hardware or OS CPEs only: an
#: application CPE names the software's vendor (cpe:/a:apple:cups is CUPS on any Linux box,
#: "AirTunes" is Apple's protocol on a Sonos), not the maker of the device.
DECOY_MAKERS: tuple[tuple[str, str], ...] = (
    (r"\bapple\b", "Apple"), (r"\bsonos\b", "Sonos"), (r"kyocera", "Kyocera"),
    (r"\bepson\b", "Epson"), (r"\bqnap\b", "QNAP"), (r"tp-?link", "TP-Link"),
    (r"d-?link", "D-Link"), (r"allworx", "Allworx"), (r"\broku\b", "Roku"),
    (r"\bsony\b", "Sony"), (r"\bshelly\b", "Shelly"), (r"dream ?multimedia|dreambox",
                                                         "Dream Multimedia"),
    (r"\bcanon\b", "Canon"), (r"\blg\b|lg electronics", "LG"), (r"\basus", "ASUS"),
    (r"netgear", "Netgear"), (r"\bdenon\b", "Denon"), (r"aastra", "Aastra"),
    (r"\bibm\b", "IBM"),
)
_RECORDER = re.compile(r"\b(nvr|dvr|xvr|hvr|video recorder)s?\b")
_ENCODER = re.compile(r"\b(video server|video encoder|encoder)\b")
_VMS = re.compile(r"\b(vms|digifort|xprotect|milestone|genetec|nx witness|blue iris)\b")
_CAMERA = re.compile(r"\b(camera|webcam|ipcam|ip cam|network camera)\b")
_SURVEILLANCE_TYPES = {"webcam", "security-misc"}
_ORDER = ("recorder", "encoder", "vms", "camera", "other")
#: Products nmap matched only on the zoo's generic replies (see the module docstring).
ZOO_ARTEFACTS = frozenset({"FRITZ!Box TR-069 service"})


def parse(path: str) -> dict[str, list[dict[str, str]]]:
    """address -> one dict per open TCP port (port, name, product, extrainfo, devicetype, cpe)."""
    hosts: dict[str, list[dict[str, str]]] = {}
    root = ElementTree.parse(path).getroot()
    for host in root.iter("host"):
        address = next((a.get("addr", "") for a in host.iter("address")
                        if a.get("addrtype") in ("ipv4", "ipv6")), "")
        services: list[dict[str, str]] = []
        for port in host.iter("port"):
            state = port.find("state")
            if state is None or state.get("state") != "open":
                continue
            svc = port.find("service")
            entry = {"port": port.get("portid", ""), "name": "", "product": "", "version": "",
                     "extrainfo": "", "devicetype": "", "cpe": ""}
            if svc is not None:
                for key in ("name", "product", "version", "extrainfo", "devicetype"):
                    entry[key] = svc.get(key, "")
                entry["cpe"] = " ".join(c.text or "" for c in svc.iter("cpe"))
            services.append(entry)
        if address:
            hosts[address] = services
    return hosts


def _classes(svc: dict[str, str]) -> set[str]:
    text = f"{svc['product']} {svc['extrainfo']}".casefold()
    dtype = svc["devicetype"].casefold()
    found: set[str] = set()
    if _RECORDER.search(text):
        found.add("recorder")
    if _ENCODER.search(text):
        found.add("encoder")
    if _VMS.search(text):
        found.add("vms")
    if dtype in _SURVEILLANCE_TYPES or _CAMERA.search(text):
        found.add("camera")
    if dtype and dtype not in _SURVEILLANCE_TYPES:
        found.add("other")
    return found


def _makers(svc: dict[str, str]) -> list[str]:
    text = f"{svc['product']} {svc['extrainfo']}".casefold()
    cpes = [c.split(":") for c in svc["cpe"].split() if c.count(":") >= 2]
    vendors = " ".join(c[2] for c in cpes).casefold()
    device_vendors = " ".join(c[2] for c in cpes if c[1] in ("/h", "/o")).casefold()
    found = [name for pattern, name in MAKERS
             if re.search(pattern, text) or re.search(pattern, vendors)]
    return found + [name for pattern, name in DECOY_MAKERS
                    if re.search(pattern, text) or re.search(pattern, device_vendors)]


def _hardware(services: list[dict[str, str]]) -> tuple[str | None, str | None]:
    """(model, firmware) nmap states: a hardware CPE's product, an OS CPE's version."""
    model = firmware = None
    for svc in services:
        for cpe in svc["cpe"].split():
            parts = cpe.split(":")
            if len(parts) >= 4 and parts[1] == "/h" and parts[3] and model is None:
                model = parts[3]
            if len(parts) >= 5 and parts[1] == "/o" and parts[4] and firmware is None:
                firmware = parts[4]
    return model, firmware


def device(address: str, services: list[dict[str, str]],
           artefacts: frozenset[str] = ZOO_ARTEFACTS) -> dict[str, Any]:
    """One camaudit/1-shaped device from nmap's services of one host.

    `artefacts`: products ignored as zoo artefacts (pass an empty set for real replies).
    """
    classes: set[str] = set()
    makers: Counter[str] = Counter()
    kept = [svc for svc in services if svc["product"] not in artefacts]
    for svc in kept:
        classes |= _classes(svc)
        makers.update(_makers(svc))
    device_type = next((c for c in _ORDER if c in classes), None)
    maker = makers.most_common(1)[0][0] if makers else None
    model, firmware = _hardware(kept)
    return {"address": address, "ports": sorted(int(s["port"]) for s in services),
            "device_type": device_type, "manufacturer": maker, "model": model,
            "firmware": firmware, "findings": []}


def document(path: str) -> dict[str, Any]:
    """A camaudit/1-like document of nmap's results, for :func:`camaudit.zoo.score.score`."""
    return {"schema": "camaudit/1", "devices": [
        device(address, services) for address, services in parse(path).items() if services]}


def open_ports(path: str) -> int:
    return sum(len(services) for services in parse(path).values())
