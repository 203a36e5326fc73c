"""Protocol probes: one module per protocol, each a sans-IO parser plus a small transport.

A probe asks a device one or a few questions through ``netio`` (which enforces
the scope gate, the shared budget and the time/byte bounds) and turns the
reply into :class:`camaudit.model.Observation` records. A probe decides
nothing about makers: that is ``identify``'s job. Passive ingest (pcap, nmap
XML) emits observations with the same probe names and field names, so one set
of fingerprint rules serves both.

Field vocabulary (the contract between probes/ingest and identify rules;
absent fields are simply missing, strings are as the device sent them):

=============  =================================================================
probe          fields
=============  =================================================================
http           path, status (int), server, title, realm, auth_scheme, location,
               content_type, headers (list of "Name: value"), body (first 4 KiB,
               text), favicon_md5, favicon_mmh3, tls (bool), redirect_refused,
               error (why the reply is incomplete or not HTTP)
isapi          model, firmware, firmware_build, serial, mac, device_type,
               manufacturer, device_name  (Hikvision /ISAPI/System/deviceInfo)
dahua-cgi      device_type, serial, hardware, firmware, firmware_build,
               update_serial  (magicBox.cgi key=value)
dahua-rpc2     realm, encryption, random, mac  (RPC2_Login challenge)
vapix          brand, model, product_type, firmware, serial  (Axis param.cgi)
lapi           envelope, model, firmware, serial, device_name, device_type_code,
               hardware  (Uniview /LAPI/V1.0/System/DeviceInfo)
reolink        model, firmware, hardware, serial, device_type, build_day, device_name
               (Reolink api.cgi GetDevInfo, with the operator's login only)
channel        api, channel (int), address, port (int), protocol, vendor, model, firmware,
               serial, mac, name, enabled (bool), source_path, document  (a camera a
               recorder reports: ISAPI InputProxy, Dahua RemoteDevice; login only)
analytics      api, endpoint, channel (int), offered (list), enabled (list), platform
               (list)  (capability/rule names a device states: ISAPI DeviceCap, Dahua
               VideoAnalyseRule; login only; probes/deep.py)
tls            subject, issuer, san (list), serial, not_before, not_after,
               fingerprint_sha256, self_signed (bool), error (unreadable cert)
rtsp           method, path, status (int), server, realm, auth_scheme, public
               (list), content_type, sdp_origin, sdp_session, sdp_info, sdp_tool
               (SDP session level of a DESCRIBE answer, RFC 4566 5)
onvif          manufacturer, model, firmware, serial, hardware_id, scopes (list),
               xaddrs (list), action, status (int), fault, device_time,
               authenticated (bool); with a login: capabilities (list), mac, interface
wsd            types (list), scopes (list), xaddrs (list), endpoint,
               xaddrs_refused (list)  (WS-Discovery ProbeMatch)
upnp           server, location, st, usn, location_refused, friendly_name,
               manufacturer, model_name, model_number, model_description,
               serial, udn
ubnt           recognised, version, mac, ip, firmware_full, firmware, hostname,
               product, model, model_type, essid, system_id, platform_version
               (Ubiquiti discovery, UDP 10001)
dhip           recognised, device_class, device_type, vendor, manufacturer, serial,
               machine_name, version, mac, http_port, port, video_inputs,
               remote_video_inputs  (Dahua DHDiscover, UDP 37810)
hik-sdk        reply_hex (first 64 bytes), recognised (bool), error_code
dvrip          reply_hex, recognised (bool), realm, device_type, serial
xmeye          reply_hex, recognised (bool), model, firmware, serial, ret (int),
               build_time
banner         service (ftp|telnet|ssh|digifort|other), banner
mac            mac, oui_vendor, vlan, switch_port  (last two: a switch's MAC table)
inventory      make, model, firmware, serial, location, label, mac, file, row
               (a person's claim, source "claim"; file/row cite the sheet)
nmap           service, product, version, extrainfo, devicetype, ostype, cpe (list),
               method, tunnel, protocol; without a port: os, os_vendor, devicetype,
               cpe, accuracy (int)  (an nmap -oX file, ingest only)
dhcp           hostname, vendor_class (option 60), param_list (option 55, "1,3,6"),
               message_type  (capture or lease file, ingest only)
mdns           hostname, services (list), instances (list), txt (list)  (ingest only)
=============  =================================================================

See :mod:`camaudit.probes.base` for the interface and
:mod:`camaudit.probes.registry` for the list of probes and which run where.
"""
