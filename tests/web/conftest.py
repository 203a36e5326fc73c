"""The console over a real store, served by a real uvicorn on 127.0.0.1 (STYLE.md rule 5).

The store holds: scan A, the session zoo's audit (site "test site") copied from the
``zoo_scan`` fixture; scan B, the same estate a quarter later (firmware updated on one
device, one device gone, one hostile newcomer); scan C, another site ("depot") whose
devices carry every hostile string the zoo's hostile personas sent. Users: one per role,
plus a viewer bound to the depot site.
"""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from camaudit.model import Device, Evidence, Finding, Observation
from camaudit.store import Store
from camaudit.store.console import Console
from camaudit.web.app import Settings, create_app
from camaudit.web.security import digest, hash_password, new_secret, new_token

PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "auditor", "admin")
DEPOT = "depot"
# Strings a device can make us show that would run script if not escaped: ours, beside the
# zoo's own (read from the zoo's hostile-escapes device in `hostile_strings`).
PWN_SCRIPT = "<script>window.__pwned = 1</script>"
PWN_IMG = '<img src=x onerror="window.__pwned = 2">'
PWN_ATTR = '" autofocus onfocus="window.__pwned = 3'


def hostile_strings(zoo_store: Store, scan_id: int) -> list[str]:
    """Every device-supplied string the zoo's hostile personas put in observations."""
    found: list[str] = []
    for obs in zoo_store.observations(scan_id):
        for value in obs.fields.values():
            if isinstance(value, str) and any(c in value for c in "<>\x1b\"'&"):
                found.append(value)
    return sorted(set(found))[:12] or ["<script>alert(document.domain)</script>"]


def hostile_device(address: str, site: str, strings: list[str], obs: Observation) -> Device:
    text = " ".join([*strings[:3], PWN_SCRIPT, PWN_IMG, PWN_ATTR])
    return Device(
        address, [80, 554], "00:11:22:33:44:55", "camera", brand=f"Brand {text}",
        manufacturer="Hikvision", model=f"DS-{text}", firmware=f"V5 {PWN_ATTR} {strings[0]}",
        serial=f"SN-{address}", confidence=0.9, site=site, hostname=f"{PWN_IMG}.local",
        evidence=[Evidence("http-title", f"sha256:{obs.sha256}", f"brand={text}", 0.5,
                           source="javascript:window.__pwned=4")],
        conflicts=[f"title says {text}"],
        findings=[Finding("ndaa-889", "restriction", "high", f"Maker named {text}",
                          "https://www.acquisition.gov/far/52.204-25", regime="ndaa-889",
                          detail=f"detail {text}", evidence=[f"rule -> {text}"]),
                  Finding("kev:CVE-2021-36260", "vulnerability", "critical", f"KEV {text}",
                          "javascript:window.__pwned=5", detail=text)])


@dataclass
class WebStore:
    path: Path
    secrets: Path
    a: int
    b: int
    c: int
    zoo_address: str  # a device of scan A with a restriction finding
    hostile_address: str  # scan C
    strings: list[str]
    addresses: list[str] = field(default_factory=list)


def _copy_scan(src: Store, src_id: int, dst: Store, site: str,
               change: Any = None) -> int:
    scan = src.scan(src_id)
    observations: dict[str, list[Observation]] = defaultdict(list)
    for obs in src.observations(src_id):
        observations[obs.address].append(obs)
    new_id = dst.create_scan(targets=scan["targets"], excludes=scan["excludes"],
                             resolved=scan["resolved"], ports=scan["ports"],
                             options=scan["options"], policies=scan["policies"],
                             knowledge=scan["knowledge"], tool_version=scan["tool_version"],
                             site=site)
    for device in src.iter_devices(src_id):
        device = copy.deepcopy(device)
        device.site = site
        if change is not None:
            device = change(device)
            if device is None:
                continue
        dst.save_host(new_id, device, observations.get(device.address, []))
    dst.finish_scan(new_id, {"elapsed": 1.0})
    return new_id


@pytest.fixture(scope="session")
def web_store(zoo_scan: Any, tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    root = tmp_path_factory.mktemp("web")
    store = Store(str(root / "console.db"))
    a = _copy_scan(zoo_scan.store, zoo_scan.scan_id, store, "test site")
    restricted = [d for d in store.devices(a)
                  if any(f.kind == "restriction" and f.status == "open" for f in d.findings)]
    strings = hostile_strings(zoo_scan.store, zoo_scan.scan_id)
    first_obs = next(iter(zoo_scan.store.observations(zoo_scan.scan_id)))
    gone, updated = restricted[-1].address, restricted[0].address

    def later(device: Device) -> Device | None:
        if device.address == gone:
            return None
        if device.address == updated:
            device.firmware = "V5.7.99 build 261101"
        return device

    b = _copy_scan(zoo_scan.store, zoo_scan.scan_id, store, "test site", later)
    hostile = hostile_device("127.42.250.1", "test site", strings, first_obs)
    store.save_host(b, hostile, [first_obs])
    c = store.create_scan(targets=["127.43.0.0/24"], excludes=[], resolved={}, ports=[80],
                          options={}, policies=["all"], knowledge={}, tool_version="0.1.0",
                          site=DEPOT)
    depot = hostile_device("127.43.0.9", DEPOT, strings,
                           Observation("127.43.0.9", 80, "http", {"title": strings[0]},
                                       raw=("<title>" + strings[0] + PWN_SCRIPT).encode()))
    store.save_host(c, depot, [Observation("127.43.0.9", 80, "http", {"title": strings[0]},
                                           raw=("<title>" + strings[0] + PWN_SCRIPT).encode())])
    store.finish_scan(c, {"elapsed": 1.0})
    console = Console(store)
    for role in ROLES:
        console.add_user(role, role, hash_password(PASSWORD))
    console.add_user("depot-viewer", "viewer", hash_password(PASSWORD), [DEPOT])
    console.add_user("matrix-target", "viewer", hash_password(PASSWORD))
    store.close()
    return WebStore(root / "console.db", root / "secrets", a, b, c, updated, depot.address,
                    strings, [d.address for d in restricted])


@dataclass
class Served:
    url: str
    app: Any
    store: WebStore
    password: str = PASSWORD
    pwned: tuple[str, ...] = (PWN_SCRIPT, PWN_IMG, PWN_ATTR)

    @property
    def console(self) -> Console:
        console: Console = self.app.state.console
        return console

    def token(self, user: str) -> str:
        token, token_hash, prefix = new_token()
        self.console.add_token(user, token_hash, prefix)
        return token

    def api(self, user: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def browser_session(self, user: str) -> tuple[httpx.Client, str]:
        """A client holding a fresh session of `user` (made directly: no argon2, no limit)."""
        import datetime as dt

        cookie, csrf = new_secret(), new_secret()
        self.console.open_session(self.console.user(user), digest(cookie), csrf,
                                  dt.timedelta(hours=1))
        client = httpx.Client(base_url=self.url, cookies={"camaudit_session": cookie},
                              timeout=30.0, follow_redirects=False)
        return client, csrf


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def served(web_store: WebStore) -> Iterator[Served]:
    settings = Settings(db=str(web_store.path), secrets_dir=web_store.secrets)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    yield Served(f"http://127.0.0.1:{port}", app, web_store)
    server.should_exit = True
    thread.join(10)
