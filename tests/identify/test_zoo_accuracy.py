"""Identification accuracy on the zoo, end to end: real sockets, real pipeline, real SQLite.

Issue #5's goal: every persona device gets the right class, brand and maker; decoys are
never called cameras; hostile devices never crash or stall the scan (they are in the
scanned range, and the scan has finished when the session fixture hands it over).

The scan is the shared ``zoo_scan`` fixture (tests/conftest.py): the operator's view
without device logins. Where a persona shows too little on the wire to name a field
without guessing, the field must stay null (unknown is honest); those cases are listed in
:data:`NOT_ON_THE_WIRE` with the reason, so that a new rule that fills one shows up here.
Nothing may ever be *wrong*: no wrong maker, brand or class on any device. A class gap may
be filled with ``surveillance`` (video gear whose role is not on the wire). Fields that are
on the wire but that no rule reads yet are listed in :data:`AWAITING_RULES`; an entry that
has become right fails the test, so the table shrinks as rules land.
"""

from __future__ import annotations

from typing import Any

from camaudit.zoo.score import score

FIELDS = ("device_type", "brand", "manufacturer")

#: persona -> fields that stay null without a login, and why (see the persona files).
NOT_ON_THE_WIRE: dict[str, tuple[tuple[str, ...], str]] = {
    "hanwha-camera": (("brand",),
                      "the maker shows in its iPOLiS realm, but the name on the box does not: "
                      "WS-Discovery name/Wisenet is user-settable and ONVIF needs the login"),
    "uniview-ipc": (("brand", "manufacturer"),
                    "only WS-Discovery name/Uniview; realm is a placeholder serial, and a 401 "
                    "on the LAPI path proves nothing: its reply needs the login"),
    "milesight-camera": (("manufacturer",),
                         "the brand is shown (title), but no Milesight protocol telltale is "
                         "served: a brand alone never sets the maker"),
    "media-server-rtsp": (("device_type",),
                          "its only reply is 'Server: GStreamer RTSP server', which Axis cameras "
                          "send too (rules/rtsp.yaml gstreamer note): not enough to say 'other'"),
    "lorex-nvr": (("device_type",),  # its role; the Dahua protocol shows 'surveillance'
                  "the Dahua model (DHI-NVR...) is only in magicBox behind the login, and no "
                  "public source shows what a Lorex recorder answers to DHIP discovery"),
    "tvt-nvr": (("device_type",),
                "NVMS-1000 names TVT's product; public material shows it as device firmware "
                "and as Windows VMS software, so no class is claimed"),
    "wyze-cam-v3": (("device_type", "brand", "manufacturer"),
                    "Wyze's RTSP firmware is a stock LIVE555 server (realm 'LIVE555 Streaming "
                    "Media', as Reolink and media servers use): nothing names Wyze or the role"),
    "vivotek-fd9360h": (("device_type", "brand", "manufacturer"),
                        "only ONVIF answers, and GetDeviceInformation (VIVOTEK, FD9360-H) needs "
                        "the operator's login; no other reply of it is published"),
    "aiphone-ze-pro": (("device_type", "brand", "manufacturer"),
                       "its RTSP Server 'Linux/2.6.32.17-davinci1 Ze-PRO' and realm 'Secret' "
                       "name no maker; 'aiphone' is only in the owner's stream path"),
    "tplink-vigi-c540": (("device_type", "brand", "manufacturer"),
                         "only its OPTIONS reply is published (Date, Public: a LIVE555-like "
                         "list with no Server); its DESCRIBE challenge is cut off in the log"),
    "onvif-yma42p": (("device_type", "brand"),
                     "only ONVIF answers, and GetDeviceInformation/GetScopes (A_ONVIF_CAMERA, "
                     "YMA42P_C2_WM701_AF) need the operator's login; nothing else is published"),
    "panasonic-camera": (("device_type",),  # the realm names the maker, not the role
                         "realm 'Panasonic network device' does not say camera, encoder or "
                         "recorder; 'surveillance' is the honest class"),
}

#: persona -> fields that ARE on the wire but that no rule or probe reads yet, and why. They
#: may stay null today (device_type may be 'surveillance' for video gear, never for a decoy);
#: once a field comes out right the entry is stale and the test fails until it is removed.
AWAITING_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "tapo-c110": (("brand",),
                  "RTSP realm 'TP-Link IP-Camera' (Basic and Digest) names maker and class"),
    "tplink-ipc": (("brand",),
                   "RTSP realm 'TP-LINK IP-Camera'; Public lists TP-Link's MULTITRANS"),
    "foscam-c1": (("device_type", "brand", "manufacturer"),
                  "RTSP realm 'Foscam IPCam Living Video'"),
    "panasonic-camera": (("manufacturer",),
                         "RTSP realm 'Panasonic network device' (Panasonic's firmware stack, "
                         "maker i-PRO via makers.yaml brand_names)"),
    "2n-helios-ip-force": (("device_type", "brand", "manufacturer"),
                           "RTSP Server 'HIP2.21.2.30.5' (2N Helios IP firmware; version too)"),
    "flir-cm6204": (("device_type", "brand", "manufacturer"),
                    "WS-Discovery scopes manufacturer/FLIR%20Systems, hardware/CM-6204-11-I, "
                    "type/video_encoder, flir:// and dvtel:// vendor scopes"),
    "dlink-dcs8000lh": (("device_type", "brand", "manufacturer"),
                        "Basic realm 'DCS-8000LH_00' on /video/mpegts.cgi: no probe asks that "
                        "path yet (GET / closes), so it needs a probe path and a rule"),
}

def _scored(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in devices if not d.get("hostile")]


def test_every_persona_device_gets_class_brand_and_maker(zoo_scan: Any, zoo: Any) -> None:
    found = {d["address"]: d for d in zoo_scan.document["devices"]}
    wrong: list[str] = []
    for truth in _scored(zoo.devices):
        got = found.get(truth["address"], {})
        persona = truth["persona"]
        gaps, _why = NOT_ON_THE_WIRE.get(persona, ((), ""))
        awaiting, _note = AWAITING_RULES.get(persona, ((), ""))
        for name in FIELDS:
            want, have = truth.get(name), got.get(name)
            if name in awaiting and name not in gaps:
                if (want or "").casefold() == (have or "").casefold():
                    wrong.append(f"{truth['address']} {persona}: {name} = {have!r} is now "
                                 "right - remove it from AWAITING_RULES")
                    continue
                role_unknown = name == "device_type" and have == "surveillance"
                if have is not None and not (role_unknown and want != "other"):
                    wrong.append(f"{truth['address']} {persona}: {name} = {have!r}, "
                                 f"expected {want!r} (awaiting a rule, never a wrong value)")
                continue
            if name in gaps:
                role_unknown = name == "device_type" and have == "surveillance"
                if have is not None and not role_unknown:
                    wrong.append(f"{truth['address']} {persona}: {name} = {have!r}, expected "
                                 "null (not on the wire) - update NOT_ON_THE_WIRE if a rule "
                                 f"now finds {want!r}")
                continue
            if (want or "").casefold() != (have or "").casefold():
                wrong.append(f"{truth['address']} {persona}: {name} = {have!r}, expected {want!r}")
    assert not wrong, "\n".join(wrong)


def test_no_wrong_maker_and_no_decoy_called_a_camera(zoo_scan: Any, zoo: Any) -> None:
    result = score(zoo_scan.document, zoo.manifest, fields=FIELDS)
    assert result.wrong_maker == 0, result.mismatches
    assert result.decoys_called_cameras == 0, result.mismatches
    found = {d["address"]: d for d in zoo_scan.document["devices"]}
    decoys = [d for d in _scored(zoo.devices) if d["device_type"] == "other"]
    assert decoys
    for truth in decoys:
        have = found.get(truth["address"], {}).get("device_type")
        gaps = (*AWAITING_RULES.get(truth["persona"], ((), ""))[0],
                *NOT_ON_THE_WIRE.get(truth["persona"], ((), ""))[0])
        if "device_type" in gaps:
            assert have in (None, "other"), truth["persona"]  # never surveillance gear
        else:
            assert have == "other", truth["persona"]


def test_awaiting_and_not_on_the_wire_name_real_personas() -> None:
    """Both tables name personas that exist and fields the tests score."""
    from camaudit.zoo.personas import load_all

    personas = load_all()
    for table in (NOT_ON_THE_WIRE, AWAITING_RULES):
        for persona, (fields, why) in table.items():
            assert persona in personas, persona
            assert set(fields) <= set(FIELDS) and why, persona


def test_hostile_devices_were_scanned_without_harm(zoo_scan: Any, zoo: Any) -> None:
    hostile = [d for d in zoo.devices if d.get("hostile")]
    assert hostile
    scan = zoo_scan.store.scan(zoo_scan.scan_id)
    assert scan["status"] == "done"
    stats = scan["stats"] or {}
    assert stats.get("hosts_up", 0) >= len(_scored(zoo.devices)), stats


def test_no_model_or_firmware_is_wrong(zoo_scan: Any, zoo: Any) -> None:
    """Model and firmware may stay null (not on the wire), but a value shown must be right."""
    found = {d["address"]: d for d in zoo_scan.document["devices"]}
    wrong: list[str] = []
    for truth in _scored(zoo.devices):
        got = found.get(truth["address"], {})
        for name in ("model", "firmware"):
            have = got.get(name)
            if have is not None and have.casefold() != (truth.get(name) or "").casefold():
                wrong.append(f"{truth['address']} {truth['persona']}: {name} = {have!r}, "
                             f"expected {truth.get(name)!r}")
    assert not wrong, "\n".join(wrong)


def test_reolink_firmware_and_kev_with_the_operator_login(
        zoo: Any, tmp_path_factory: Any) -> None:
    """With the zoo login, Reolink's API gives model and firmware, so the RLC-410W persona
    (v3.0.0.136_20121102) gets its KEV finding; neither the password nor the token is kept."""
    from camaudit.cliutil import run_async
    from camaudit.pipeline import ScanOptions, execute, new_scan
    from camaudit.probes.base import Credentials
    from camaudit.store import Store
    from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER

    reolink = [d for d in zoo.devices if str(d["persona"]).startswith("reolink-")]
    assert {d["persona"] for d in reolink} >= {"reolink-rlc410w"}
    db = tmp_path_factory.mktemp("reolink-login") / "scan.db"
    store = Store(str(db))
    options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0)
    scan_id, scope = new_scan(store, [d["address"] for d in reolink], [], options)
    run_async(execute(store, scan_id, scope, options,
                      credentials=Credentials(ZOO_USER, ZOO_PASSWORD)))
    found = {d["address"]: d for d in store.document(scan_id)["devices"]}
    for truth in reolink:
        got = found[truth["address"]]
        assert (got["manufacturer"], got["model"], got["firmware"]) == (
            "Reolink", truth["model"], truth["firmware"]), truth["persona"]
        ids = {f["id"] for f in got["findings"]}
        assert set(truth["findings"]) <= ids, truth["persona"]
    store.close()
    kept = db.read_bytes()
    assert ZOO_PASSWORD.encode() not in kept
    assert b"<redacted>" in kept
