"""Passive evidence rules (identify/rules/passive.yaml): nmap's guesses stay weak.

nmap names makers from match lines of very different strength; only the lines that rest on
the maker's own bytes may decide a maker. Port-number guesses (``method="table"``, nmap's
``?``), soft matches, device types and OS classes never do, however many ports repeat them.
"""

from __future__ import annotations

import datetime as dt

from camaudit.identify import identify
from camaudit.model import FieldValue, Observation

WHEN = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
ADDR = "192.0.2.7"


def _obs(probe: str, port: int | None, **fields: FieldValue) -> Observation:
    return Observation(address=ADDR, port=port, probe=probe, fields=dict(fields), raw=b"",
                       time=WHEN, source="passive")


def test_weak_nmap_guesses_never_decide_a_maker() -> None:
    obs = [
        _obs("nmap", 554, service="rtsp", product="Hikvision DVR rtspd", method="probed"),
        _obs("nmap", 8554, service="rtsp", product="Hikvision 7513 POE IP camera rtspd",
             devicetype="webcam", method="probed"),
        _obs("nmap", 80, service="http", product="Hikvision IPCam control port",
             method="table"),  # a port-number guess: ignored
        _obs("nmap", None, os="AXIS 211A Network Camera", os_vendor="AXIS", accuracy=95,
             devicetype="webcam", cpe=["cpe:/h:axis:211a"]),
    ]
    device = identify(ADDR, obs)
    assert device.manufacturer is None
    assert any("Hikvision" in line for line in device.conflicts)


def test_soft_match_and_table_guess_say_nothing() -> None:
    obs = [_obs("nmap", 554, service="rtsp", method="table"),
           _obs("nmap", 8000, service="http-alt", method="table", product="Hikvision DVR")]
    device = identify(ADDR, obs)
    assert device.evidence == [] and device.manufacturer is None


def test_nmap_telltale_confirmed_by_oui() -> None:
    obs = [_obs("nmap", 554, service="rtsp", product="Dahua IP camera rtspd",
                method="probed"),
           _obs("mac", None, mac="3c:ef:8c:12:34:56")]
    device = identify(ADDR, obs)
    assert device.manufacturer == "Dahua"


def test_decoy_printer_from_dhcp_and_nmap() -> None:
    obs = [_obs("dhcp", None, vendor_class="Mfg=Hewlett Packard;Typ=Printer;"
                "Mod=HP LaserJet 400 M401dne;Ser=ABCDE12345;"),
           _obs("nmap", None, os="HP LaserJet printer", os_vendor="HP", accuracy=98,
                devicetype="printer")]
    device = identify(ADDR, obs)
    assert (device.device_type, device.manufacturer) == ("other", "HP")


def test_axis_from_dhcp_and_mdns() -> None:
    obs = [_obs("dhcp", None, vendor_class="AXIS,Network Camera,P3225-LV Mk II,9.70.1.5"),
           _obs("mdns", None, services=["_axis-video._tcp.local"],
                txt=["macaddress=ACCC8E9145C1"])]
    device = identify(ADDR, obs)
    assert (device.manufacturer, device.device_type) == ("Axis", "camera")
    assert (device.model, device.firmware) == ("P3225-LV Mk II", "9.70.1.5")
    assert device.mac == "ac:cc:8e:91:45:c1"


def test_axis_video_service_alone_is_only_a_hint() -> None:
    device = identify(ADDR, [_obs("mdns", None, services=["_axis-video._tcp.local"])])
    assert device.manufacturer is None
