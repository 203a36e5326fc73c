"""Passive ingest: audit from files an operator already has, through the scan's own pipeline.

    file --detect--> parser (sans-IO generator of records) --> records.Gatherer
         --> per address: pipeline.conclude (identify + assess) + claims --> store (kind "ingest")

    detect.py      which format a file is (content sniffing, gzip looked into)
    nmapxml.py     nmap -oX, streamed with iterparse            -> nmap/http/tls/rtsp/... obs
    servicefp.py   nmap's service fingerprints: recorded replies -> the probes' parsers
    pcapfile.py    pcap/pcapng containers, bounded, with offsets -> frames
    pcap.py        dpkt decoding; ARP, DHCP, mDNS                 -> records
    tcpflow.py     bounded TCP reassembly                         -> connections
    wire.py        streams/datagrams read by the probes' parsers  -> same obs as a scan
    neighbours.py  ip neigh, arp -a (Linux/BSD/Windows), Cisco ARP and MAC tables
    leases.py      ISC dhcpd.leases, dnsmasq leases
    inventory.py   CSV/XLSX sheets -> ``inventory`` claims (source "claim")
    claims.py      the ``inventory-disagrees`` finding
    records.py     record types, the Gatherer (fusion by address/MAC), IngestError helper
    run.py         one ingest end to end;  commands.py: ``camaudit ingest``
"""
