"""Fast open-port discovery: asyncio TCP connects through the gate and the shared budget.

The budget (``netio.Budget``) bounds sockets in flight — below the process's
file-descriptor limit — and connection attempts per second (``--rate``); a
closed port or an empty address costs one refused connect.
"""

from __future__ import annotations

from camaudit.errors import UsageError
from camaudit.netio import Net, tcp_ports_open, tcp_sweep

#: Ports where surveillance equipment answers: web UI (80/81/88/443/8080/8081/8443),
#: RTSP (554/8554), Hikvision SDK (8000), Dahua DVRIP (37777), XMeye (34567),
#: ONVIF on alternative HTTP ports (2020, 8899), UniFi Protect/NVR web (7443),
#: VMS/encoder web ports (9000), the Digifort VMS server (8600, as nmap-service-probes
#: records it), FTP/Telnet banners (21/23).
DEFAULT_PORTS: tuple[int, ...] = (
    21, 23, 80, 81, 88, 443, 554, 2020, 7443, 8000, 8080, 8081, 8443, 8554, 8600, 8899,
    9000, 34567, 37777,
)


def parse_ports(spec: str) -> list[int]:
    """'80,443,8000-8010' -> sorted unique ports; a clear error for anything else."""
    ports: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first = int(lo)
            last = int(hi) if sep else first
        except ValueError as exc:
            raise UsageError(f"bad port {part!r} in --ports (use e.g. 80,443,8000-8010)") from exc
        if not (1 <= first <= last <= 65535):
            raise UsageError(f"bad port range {part!r} in --ports (ports are 1-65535)")
        ports.update(range(first, last + 1))
    if not ports:
        raise UsageError("--ports names no port")
    return sorted(ports)


async def sweep_host(net: Net, address: str, ports: list[int], timeout: float) -> list[int]:
    """The open TCP ports of one address, in ascending order."""
    return await tcp_ports_open(net, address, ports, timeout)


async def sweep_hosts(net: Net, addresses: list[str], ports: list[int],
                      timeout: float) -> dict[str, list[int]]:
    """The open TCP ports of several addresses, swept as one batch (the scan's hot path)."""
    return await tcp_sweep(net, addresses, ports, timeout)
