"""The zoo: an emulated video-surveillance estate on loopback for the demo, tests and benchmarks.

    personas/*.yaml  what each emulated device is and says, every response with its origin
    personas.py      loads and checks persona files (bases + variants)
    estate.py        the deterministic mix of devices for a count and seed, and the manifest
    server.py        one asyncio process binding every device's ports; stats; signals
    http.py onvif.py rtsp.py raw.py xmeye.py dvrip.py hostile.py udp.py tls.py
                     one small handler per protocol (sans-IO reply builders + a few lines of I/O)
    process.py       run_in_subprocess(): start a zoo for tests/demo/benchmarks, wait for
                     "ready N", stop it cleanly
    commands.py      the ``camaudit zoo`` command

Everything listens on 127.0.0.0/8 only (default 127.42.0.0/16); hostile personas
point redirects and XAddrs at 127.67.0.1, outside any zoo base.
"""

from camaudit.zoo.process import ZooProcess, run_in_subprocess

__all__ = ["ZooProcess", "run_in_subprocess"]
