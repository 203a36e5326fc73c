"""Fusion on observations shaped like real device output: OEM unmasking, brand-only
hints, decoys, conflicts, thresholds and explain()."""

from __future__ import annotations

from camaudit.identify import explain, identify
from camaudit.identify.fusion import THRESHOLD
from camaudit.model import Observation

A = "192.0.2.20"


def http(**fields: object) -> Observation:
    return Observation(A, 80, "http", {"path": "/", "status": 200, **fields})


def hik_sdk() -> Observation:
    # nmap-service-probes 'Hikvision IPCam control port' reply bytes
    reply = bytes.fromhex("000000100000001e0000001e00000000")
    return Observation(A, 8000, "hik-sdk", {"reply_hex": reply.hex(), "recognised": True}, reply)


def test_oem_brand_unmasked_by_hikvision_telltales() -> None:
    obs = [http(title="ANNKE", server="App-webs/"), hik_sdk(),
           Observation(A, 554, "rtsp", {"status": 401, "realm": "Hikvision"})]
    device = identify(A, obs)
    assert device.brand == "Annke"
    assert device.manufacturer == "Hikvision"
    # App-webs/ only leans camera and an RTSP answer names no role: gear, role unknown
    assert device.device_type == "surveillance"
    assert device.ports == [80, 554, 8000]
    rules = {e.rule for e in device.evidence if e.says == "manufacturer=Hikvision"}
    assert {"hik-sdk-8000", "hik-http-server-app-webs", "hik-realm-hikvision"} <= rules
    assert all(e.observation.startswith("sha256:") for e in device.evidence)
    assert device.confidence > 0.8


def test_brand_alone_gives_no_maker_only_a_note() -> None:
    device = identify(A, [http(title="ANNKE NVR")])
    assert device.brand == "Annke"
    assert device.manufacturer is None
    assert any("possible maker via OEM brand" in c and "Hikvision" in c for c in device.conflicts)


def test_maker_own_name_in_title_is_not_enough_for_maker() -> None:
    device = identify(A, [http(title="Hikvision")])
    assert device.brand == "Hikvision"
    assert device.manufacturer is None


def test_camera_shop_page_is_not_a_camera() -> None:
    device = identify(A, [http(title="IP Camera Store - best prices", server="nginx")])
    assert device.device_type != "camera"
    assert device.manufacturer is None
    assert device.confidence < THRESHOLD


def test_decoys_are_other() -> None:
    printer = identify(A, [Observation(A, 443, "tls", {
        "subject": "CN=HP Jetdirect 38831831,OU=2C413883186A+OU=J8028E,O=Hewlett-Packard Co.",
        "issuer": "CN=HP Jetdirect 38831831,OU=2C413883186A+OU=J8028E,O=Hewlett-Packard Co."})])
    assert (printer.device_type, printer.manufacturer) == ("other", "HP")
    router = identify(A, [http(title="RouterOS router configuration page")])
    assert router.device_type == "other"


def test_several_weak_class_signals_make_a_camera() -> None:
    """WS-Discovery type + scopes (ONVIF Core) and an RTSP 401 agree: a camera."""
    obs = [Observation(A, 3702, "wsd", {
        "types": ["dn:NetworkVideoTransmitter", "tds:Device"],
        "scopes": ["onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/type/ptz"]}),
        # a bare class-word realm: 'IP Camera(<serial tail>)' is Hikvision's own shape
        # (rules/rtsp_more.yaml hik-realm-ip-camera-serial) and would name the maker
        Observation(A, 554, "rtsp", {"status": 401, "realm": "IP Camera"})]
    device = identify(A, obs)
    assert device.device_type == "camera"
    assert device.manufacturer is None


def test_one_weak_signal_is_not_a_class() -> None:
    device = identify(A, [Observation(A, 554, "rtsp", {"status": 200})])
    assert device.device_type is None


def test_conflicting_makers_are_kept() -> None:
    obs = [hik_sdk(), Observation(A, 554, "rtsp", {"status": 200, "server": "Dahua Rtsp Server"})]
    device = identify(A, obs)
    assert device.manufacturer == "Hikvision"
    assert any(c.startswith("manufacturer: Hikvision") and "Dahua" in c for c in device.conflicts)
    lines = explain(device, obs)
    assert any("dahua-rtsp-server" in line and line.lstrip().startswith("-") for line in lines)


def test_same_rule_on_many_ports_counts_once() -> None:
    one = identify(A, [http(server="DNVRS-Webs")])
    many = identify(A, [Observation(A, p, "http", {"server": "DNVRS-Webs"})
                        for p in (80, 81, 8080, 8081)])
    assert one.confidence == many.confidence
    # DNVRS-Webs alone shows Hikvision gear and only leans recorder (0.5): role unknown
    assert one.device_type == many.device_type == "surveillance"


def test_firmware_joined_and_merged_across_probes() -> None:
    obs = [Observation(A, 80, "isapi", {"model": "DS-2CD2386G2-IU", "firmware": "V5.7.14",
                                        "firmware_build": "build 231028",
                                        "device_type": "IPCamera"}),
           Observation(A, 80, "onvif", {"manufacturer": "HIKVISION", "model": "DS-2CD2386G2-IU",
                                        "firmware": "V5.7.14"})]
    device = identify(A, obs)
    assert device.firmware == "V5.7.14 build 231028"
    assert not any(c.startswith("firmware") for c in device.conflicts)
    assert device.brand == "Hikvision"


def test_mac_oui_telltale_and_mac_value() -> None:
    obs = [Observation(A, None, "mac", {"mac": "44-19-B6-12-34-56", "oui_vendor": "x"}),
           http(title="LTS")]
    device = identify(A, obs)
    assert device.manufacturer == "Hikvision"  # OUI 0.7 + LTS hint
    assert device.brand == "LTS"


def test_explain_says_why_null() -> None:
    obs = [http(title="ANNKE")]
    device = identify(A, obs)
    lines = explain(device, obs)
    text = "\n".join(lines)
    assert "manufacturer = null: best candidate 'Hikvision' scored 0.30 < 0.60" in text
    assert "model = null: no rule matched any observation" in text
    assert "title-brand-vendor" in text and "http:80" in text


def test_empty_host() -> None:
    device = identify(A, [])
    assert device.device_type is None and device.confidence == 0.0 and device.evidence == []
    assert explain(device, [])[0].startswith(A)


def wsd_nvt(*scopes: str) -> Observation:
    return Observation(A, 0, "wsd", {"types": ["dn:NetworkVideoTransmitter", "tds:Device"],
                                     "scopes": ["onvif://www.onvif.org/type/video_encoder",
                                                *scopes]})


def test_generic_video_hints_join_the_recorder_evidence() -> None:
    # nmap 'Hikvision Network Video Recorder http admin' + recog DVR/NVR factory certificate
    obs = [http(server="DNVRS-Webs"), wsd_nvt(),
           Observation(A, 554, "rtsp", {"status": 401, "realm": "Hikvision"}),
           Observation(A, 443, "tls", {
               "subject": "CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,L=HangZhou,"
                          "ST=ZheJiang,C=CN"})]
    assert identify(A, obs).device_type == "recorder"


def test_generic_video_hints_alone_make_a_camera() -> None:
    obs = [wsd_nvt(), Observation(A, 554, "rtsp", {"status": 401, "realm": "x"})]
    assert identify(A, obs).device_type == "camera"


def test_oem_brand_outranks_the_makers_name_leaking_through() -> None:
    isapi = Observation(A, 80, "isapi", {"model": "DS-7608NXI-I2/8P/S", "manufacturer": "hikvision",
                                         "device_type": "NVR"})
    obs = [http(title="LTS", server="DNVRS-Webs"), isapi,
           Observation(A, 554, "rtsp", {"status": 401, "realm": "Hikvision"})]
    device = identify(A, obs)
    assert (device.brand, device.manufacturer) == ("LTS", "Hikvision")


def test_maker_confirms_its_own_name_shown_weakly() -> None:
    banner = Observation(A, 21, "banner", {
        "service": "ftp", "banner": "220 AXIS M7001 Video Encoder 5.20.5 (Jun 13 2017) ready."})
    device = identify(A, [banner, wsd_nvt("onvif://www.onvif.org/name/Axis")])
    assert (device.brand, device.manufacturer, device.device_type) == ("Axis", "Axis", "encoder")
    alone = identify(A, [wsd_nvt("onvif://www.onvif.org/name/Axis")])
    assert alone.brand is None and alone.manufacturer is None


def test_maker_telltale_without_role_is_surveillance() -> None:
    # A Hikvision web server names the maker but not the role: the class is 'surveillance'.
    device = identify(A, [http(server="Hikvision-Webs")])
    assert device.manufacturer == "Hikvision"
    assert device.device_type == "surveillance"
    assert any(e.rule == "hik-http-server-webs" and e.says == "device_type=surveillance"
               for e in device.evidence)


def test_rtsp_alone_is_not_surveillance() -> None:
    # Media servers (go2rtc, MediaMTX) answer RTSP too: an RTSP answer alone decides nothing.
    device = identify(A, [Observation(A, 554, "rtsp", {"method": "OPTIONS", "status": 200,
                                                       "public": ["OPTIONS", "DESCRIBE"]})])
    assert device.device_type is None
