"""Vendor endpoint parsers on real device replies (tests/probes/samples, origins inside)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ParseError
from camaudit.probes import vendor_http

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return data


def body(name: str) -> bytes:
    return str(sample(name)["response"]).encode("utf-8")


ISAPI_XML = sorted(p.stem for p in SAMPLES.glob("hikvision-isapi-deviceinfo-xml-*.json"))
ISAPI_DUMPS = sorted(p.stem for p in SAMPLES.glob("hikvision-isapi-deviceinfo-*.json")
                     if "-xml-" not in p.stem)


def dump_to_xml(name: str) -> bytes:
    """Rebuild DeviceInfo XML from a hikvision_next diagnostics dump (xmltodict JSON).

    The dumps are the real device XML converted by xmltodict ('@' marks attributes);
    the inverse conversion restores the element structure the device sent.
    """
    info = json.loads(sample(name)["response"])["response"]["DeviceInfo"]
    attrs = " ".join(f'{k[1:]}="{v}"' for k, v in info.items() if k.startswith("@"))
    children = "".join(f"<{k}>{v}</{k}>" for k, v in info.items() if not k.startswith("@"))
    return f'<?xml version="1.0" encoding="UTF-8"?><DeviceInfo {attrs}>{children}</DeviceInfo>'\
        .encode()


@pytest.mark.parametrize("name", ISAPI_XML)
def test_isapi_raw_xml_samples(name: str) -> None:
    fields = vendor_http.parse_isapi_device_info(body(name))
    assert fields["model"] == sample(name)["model"]
    assert str(fields["firmware"]).startswith("V")
    assert str(fields["firmware_build"]).startswith("build ")
    assert fields["device_type"] in ("IPCamera", "NVR")
    assert ":" in str(fields["mac"]) and fields["serial"]


@pytest.mark.parametrize("name", ISAPI_DUMPS)
def test_isapi_rebuilt_dump_samples(name: str) -> None:
    fields = vendor_http.parse_isapi_device_info(dump_to_xml(name))
    assert fields["model"] == sample(name)["model"]
    assert fields["serial"] and fields["firmware"]


def test_isapi_camera_sample_exact_fields() -> None:
    fields = vendor_http.parse_isapi_device_info(
        body("hikvision-isapi-deviceinfo-xml-ipc-ds-2cd2386g2-iu-v5.7.14"))
    assert fields == {
        "model": "DS-2CD2386G2-IU", "firmware": "V5.7.14", "firmware_build": "build 231028",
        "serial": "DS-2CD2386G2-IU00000000AAWRJ00000000", "mac": "14:92:3c:4f:f8:42",
        "device_type": "IPCamera", "manufacturer": "hikvision", "device_name": "yard"}


@pytest.mark.parametrize("bad", [
    b"",
    b"<html><body>404 Not Found</body></html>",
    # ISAPI's error document (element names as in hikvision_next's ResponseStatus handling)
    b'<?xml version="1.0"?><ResponseStatus><statusCode>4</statusCode></ResponseStatus>',
    b"<DeviceInfo><unknown>1</unknown></DeviceInfo>",
    b"<DeviceInfo><model>DS-2CD",
])
def test_isapi_rejects_non_device_info(bad: bytes) -> None:
    with pytest.raises(ParseError):
        vendor_http.parse_isapi_device_info(bad)


def test_isapi_billion_laughs_is_refused_quickly() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode()
                       for i in range(1, 10)).replace(b"&lol0;", b"&lol;")
            + b"]><DeviceInfo><model>&lol9;</model></DeviceInfo>")
    started = time.monotonic()
    with pytest.raises(ParseError, match="refused"):
        vendor_http.parse_isapi_device_info(bomb)
    assert time.monotonic() - started < 1.0


def test_magicbox_system_info_sample() -> None:
    fields = vendor_http.parse_magicbox(body("dahua-cgi-getsysteminfo-ipc-hdw5831r-ze"))
    assert fields == {"device_type": "IPC-HDW5831R-ZE", "hardware": "1.00",
                      "serial": "4X7C5A1ZAG21L3F", "update_serial": "IPC-HDW5830R-Z"}


def test_magicbox_lorex_oem_sample_keeps_dahua_model_in_update_serial() -> None:
    fields = vendor_http.parse_magicbox(body("lorex-dahua-cgi-getsysteminfo-nvr4108hs-8p-4ks2"))
    assert fields["device_type"] == "31"
    assert fields["update_serial"] == "DHI-NVR4108HS-8P-4KS2"


def test_magicbox_software_version_and_device_type_samples() -> None:
    assert vendor_http.parse_magicbox(body("dahua-cgi-getsoftwareversion-2.800")) == {
        "firmware": "2.800.0000016.0.R", "firmware_build": "2020-06-05"}
    assert vendor_http.parse_magicbox(body("dahua-cgi-getdevicetype-ipc-hdw5831r-ze")) == {
        "device_type": "IPC-HDW5831R-ZE"}


def test_magicbox_accepts_crlf_as_real_devices_send() -> None:
    crlf = body("dahua-cgi-getsysteminfo-ipc-hdw5831r-ze").replace(b"\n", b"\r\n")
    assert vendor_http.parse_magicbox(crlf)["serial"] == "4X7C5A1ZAG21L3F"


@pytest.mark.parametrize("bad", [b"Error\r\nBad Request!\r\n",
                                 b'<html><meta content="x"></html>', b"=\n=="])
def test_magicbox_rejects_error_pages(bad: bytes) -> None:
    with pytest.raises(ParseError):
        vendor_http.parse_magicbox(bad)


def test_vapix_brand_samples() -> None:
    for name, model in (("axis-vapix-param-brand-m1065-lw", "M1065-LW"),
                        ("axis-vapix-param-brand-m3024-l-fw5.51", "M3024-L")):
        fields = vendor_http.parse_vapix_params(body(name))
        assert fields == {"brand": "AXIS", "model": model, "product_type": "Network Camera"}


def test_vapix_properties_samples() -> None:
    assert vendor_http.parse_vapix_params(
        body("axis-vapix-param-properties-m7001-fw5.20.5")) == {
        "firmware": "5.20.5", "serial": "ACCC8E1A909D"}
    assert vendor_http.parse_vapix_params(
        body("axis-vapix-param-properties-a9188-fw1.84.1")) == {
        "firmware": "1.84.1", "serial": "ACCC8ED0A6EC"}


def test_vapix_rejects_error_reply() -> None:
    # VAPIX answers an unknown group with a "# Error:" line (Axis parameter management doc).
    with pytest.raises(ParseError):
        vendor_http.parse_vapix_params(b"# Error: Error -1 getting param in group 'root.X'\n")


# Reply published by Greenbone (Clivebi/nvtscript 2019/qsee/gb_qsee_ip_camera_default_credentials.sc
# at 069735f859ac3db450fa1483227e17aa1b1331a0), as a comment; one line here.
RPC2_CHALLENGE = (
    b'{"error":{"code":268632079,"message":"Component error: login challenge!"},"id":1,"params":'
    b'{"authorization":"3339eaa9152eebff56a720c2f4dd0a62203a51dc","encryption":"Default",'
    b'"mac":"3CEF8C6101C0","random":"3734299","realm":"Login to 4C045ADPAG60CD"},'
    b'"result":false,"session":1005027323}')


def test_rpc2_login_challenge() -> None:
    assert vendor_http.parse_rpc2_login(RPC2_CHALLENGE) == {
        "realm": "Login to 4C045ADPAG60CD", "random": "3734299", "encryption": "Default",
        "mac": "3CEF8C6101C0"}


def test_rpc2_request_is_the_passwordless_first_step() -> None:
    req = json.loads(vendor_http.RPC2_LOGIN_BODY)
    assert req["method"] == "global.login" and req["params"]["password"] == ""


@pytest.mark.parametrize("bad", [b"", b"[]", b'{"params": 1}', b'{"params": {"realm": true}}',
                                 b"[" * 100_000, b"\xff\xfe{}", b'{"result": true}'])
def test_rpc2_rejects_other_json(bad: bytes) -> None:
    with pytest.raises(ParseError):
        vendor_http.parse_rpc2_login(bad)


def test_request_table_is_consistent() -> None:
    keys = [r.key for r in vendor_http.REQUESTS]
    assert len(set(keys)) == len(keys)
    for i, req in enumerate(vendor_http.REQUESTS):
        assert req.after is None or req.after in keys[:i]
        assert req.probe in ("isapi", "dahua-cgi", "dahua-rpc2", "vapix", "lapi")


# Uniview LAPI DeviceInfo envelope of an NVR302-16S2, as a public NetBox sync tool's Uniview
# collector tests it (keys of Data per apache/hertzbeat define/app-uniview.yml
# @1df0901ed739744bd67517d55f42b11f004b8cd7: '$.Response.Data').
LAPI_DEVICE_INFO = (
    b'{"Response": {"ResponseURL": "/LAPI/V1.0/System/DeviceInfo", "ResponseCode": 0, '
    b'"ResponseString": "Succeed", "StatusCode": 0, "Data": {"ID": 0, "DeviceName": '
    b'"NVR302-16S2", "DeviceType": 1, "DeviceModel": "NVR302-16S2", "SerialNumber": '
    b'"210235XAX93239000081", "FirmwareVersion": "NVR-B3601.37.45.230825"}}}')


def test_lapi_device_info_sample() -> None:
    assert vendor_http.parse_lapi_device_info(LAPI_DEVICE_INFO) == {
        "envelope": "/LAPI/V1.0/System/DeviceInfo", "model": "NVR302-16S2",
        "firmware": "NVR-B3601.37.45.230825", "serial": "210235XAX93239000081",
        "device_name": "NVR302-16S2", "device_type_code": "1"}


def test_lapi_envelope_alone_is_the_telltale() -> None:
    body = b'{"Response": {"ResponseCode": 0, "Data": {"DeviceModel": ""}}}'
    assert vendor_http.parse_lapi_device_info(body) == {"envelope": "Response.Data"}


@pytest.mark.parametrize("bad", [
    b"", b"{}", b'{"Response": 1}', b'{"Response": {"Data": []}}', b"[" * 100_000,
    b'{"Response": {"ResponseCode": 1, "ResponseString": "Common Error", "StatusCode": 65535, '
    b'"Data": {}}}', b"<html>401</html>"])
def test_lapi_rejects_errors_and_other_replies(bad: bytes) -> None:
    with pytest.raises(ParseError):
        vendor_http.parse_lapi_device_info(bad)


PARSERS = [vendor_http.parse_isapi_device_info, vendor_http.parse_magicbox,
           vendor_http.parse_vapix_params, vendor_http.parse_rpc2_login,
           vendor_http.parse_lapi_device_info]


def only_fields_or_parse_error(data: bytes) -> None:
    for parse in PARSERS:
        try:
            fields = parse(data)
        except ParseError:
            continue
        assert fields and all(isinstance(v, str) and v for v in fields.values())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1024))
def test_fuzz_binary(data: bytes) -> None:
    only_fields_or_parse_error(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_text(text: str) -> None:
    only_fields_or_parse_error(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.binary(max_size=8))
def test_fuzz_mutated_samples(cut: int, noise: bytes) -> None:
    for name in ("hikvision-isapi-deviceinfo-xml-nvr-ds-7608nxi-i2",
                 "dahua-cgi-getsysteminfo-ipc-hdw5831r-ze", "axis-vapix-param-brand-m1065-lw"):
        raw = body(name)
        only_fields_or_parse_error(raw[:cut] + noise + raw[cut:])
    only_fields_or_parse_error(RPC2_CHALLENGE[:cut] + noise + RPC2_CHALLENGE[cut:])
    only_fields_or_parse_error(LAPI_DEVICE_INFO[:cut] + noise + LAPI_DEVICE_INFO[cut:])
