"""Security of the console: the authorisation matrix (every route x every role, from the one
permission table), CSRF, XSS with the zoo's hostile strings in every page, one site's user
cannot read another site's devices, revoked tokens fail, secrets at rest, login rate limit.
"""

from __future__ import annotations

import html.parser
import os
import re
import stat
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from camaudit.web.app import route_table
from camaudit.web.permissions import PERMISSIONS, PUBLIC
from camaudit.web.security import RateLimit

ROLES = ("viewer", "auditor", "admin")


def routes(app: Any) -> list[tuple[str, str, str | None]]:
    """(method, path template, permission) of every route the app serves."""
    return route_table()


def fill(path: str, served: Any) -> str:
    return (path.replace("{scan_id}", str(served.store.a))
            .replace("{address}", served.store.zoo_address)
            .replace("{name}", "matrix-target").replace("{fmt}", "csv"))


def test_every_route_names_a_permission_or_is_public(served: Any) -> None:
    table = routes(served.app)
    assert len(table) > 25
    for method, path, permission in table:
        public = (method, path) in PUBLIC
        assert public == (permission is None), f"{method} {path}: permission {permission}"
        assert permission is None or permission in PERMISSIONS


def _request(served: Any, role: str | None, method: str, url: str) -> httpx.Response:
    if url.startswith("/api/"):
        with served.api(role) as client:
            return client.request(method, url, json={} if method == "POST" else None)
    if role is None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            return client.request(method, url, data={} if method == "POST" else None)
    client, csrf = served.browser_session(role)
    with client:
        return client.request(method, url, data={"csrf": csrf} if method == "POST" else None)


def test_authorisation_matrix_every_route_every_role(served: Any) -> None:
    """Allowed roles get past the gate (their answer may still be 4xx for an empty form);
    other roles get 403; no credentials: 401 on the API, a redirect to /login on pages."""
    checked = 0
    for method, path, permission in routes(served.app):
        if permission is None:
            continue
        url = fill(path, served)
        for role in (None, *ROLES):
            response = _request(served, role, method, url)
            got = response.status_code
            where = f"{method} {url} as {role or 'nobody'}"
            if role is None and url.startswith("/api/"):
                assert got == 401, where
                assert response.headers["www-authenticate"] == "Bearer"
            elif role is None:
                assert got == 303 and response.headers["location"].startswith("/login?next="), \
                    where
            elif role in PERMISSIONS[permission]:
                assert got not in (401, 403), f"{where}: {got} {response.text[:200]}"
            else:
                assert got == 403, f"{where}: {got}"
            checked += 1
    assert checked >= 4 * 25


def test_the_api_takes_no_cookie_and_pages_take_no_token(served: Any) -> None:
    client, _ = served.browser_session("admin")
    with client:
        assert client.get("/api/v1/scans").status_code == 401
    token = served.token("admin")
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/scans").status_code == 303


def test_csrf_is_required_on_every_state_change(served: Any) -> None:
    note = f"/scans/{served.store.a}/devices/{served.store.zoo_address}/notes"
    client, csrf = served.browser_session("auditor")
    other, other_csrf = served.browser_session("admin")
    with client, other:
        assert client.post(note, data={"text": "no token"}).status_code == 403
        assert client.post(note, data={"text": "wrong", "csrf": "x" * 43}).status_code == 403
        assert client.post(note, data={"text": "stolen", "csrf": other_csrf}).status_code == 403
        foreign = client.post(note, data={"text": "cross-site", "csrf": csrf},
                              headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403
        ok = client.post(note, data={"text": "checked on site", "csrf": csrf},
                         headers={"Origin": served.url})
        assert ok.status_code == 303
        via_header = client.post(note, data={"text": "via htmx"},
                                 headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
        assert via_header.status_code == 200 and "via htmx" in via_header.text
    texts = [n["text"] for n in served.console.notes(_key(served))]
    assert "checked on site" in texts and "no token" not in texts and "stolen" not in texts


def _key(served: Any) -> str:
    from camaudit.store import inventory

    device = inventory.device(served.app.state.store, served.store.a, served.store.zoo_address,
                              sites=None)
    assert device is not None
    return inventory.device_key(device)


def test_login_cookie_is_httponly_and_same_site(served: Any) -> None:
    with httpx.Client(base_url=served.url) as client:
        response = client.post("/login", data={"name": "viewer", "password": served.password})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    with httpx.Client(base_url=served.url) as client:
        login = client.get("/login?next=//evil.example/x")
    assert 'value="/scans"' in login.text  # no open redirect


class Tags(html.parser.HTMLParser):
    """Every tag and attribute a page holds, to prove no device string became markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "nav", "main", "a",
    "span", "form", "input", "button", "h1", "h2", "h3", "p", "div", "table", "thead", "tbody",
    "tr", "th", "td", "label", "select", "option", "textarea", "pre", "code", "details",
    "summary", "section", "b", "ul", "li", "progress",
}


def assert_inert(page: str, where: str) -> None:
    parser = Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"{where}: <{tag}> came from data"
        for name, value in attrs.items():
            assert not name.startswith("on") and name not in ("autofocus", "style", "srcdoc"), \
                f"{where}: <{tag} {name}=...>"
            if name in ("href", "src", "action", "hx-get", "hx-post"):
                assert value is not None and re.match(r"^(/|\?|#|https?://|data:,$)", value), \
                    f"{where}: {tag} {name}={value!r}"
        if tag == "script":
            assert attrs.get("src") == "/static/htmx.min.js", where
    assert page.count("<script") == 1, where


def test_hostile_device_strings_stay_text_in_every_page(served: Any) -> None:
    s = served.store
    client, csrf = served.browser_session("admin")
    hostile = s.strings[0]
    with client:
        device = f"/scans/{s.b}/devices/{s.zoo_address}"
        client.post(f"/scans/{s.b}/devices/127.42.250.1/notes",
                    data={"text": f"note {served.pwned[1]} {hostile}", "csrf": csrf})
        client.post(f"/scans/{s.b}/removal/127.42.250.1",
                    data={"status": "planned", "reason": served.pwned[0], "csrf": csrf})
        with httpx.Client(base_url=served.url) as anonymous:
            anonymous.post("/login", data={"name": served.pwned[0], "password": "x"})
            reflected = anonymous.get("/login", params={"next": served.pwned[2]})
            assert_inert(reflected.text, "login next=")
        pages = [
            "/scans", f"/scans/{s.b}", f"/scans/{s.c}", f"/scans/{s.b}?q={quote(hostile)}",
            f"/scans/{s.b}?brand={quote(served.pwned[1])}&sort=severity&desc=1",
            f"/scans/{s.b}/devices/127.42.250.1", f"/scans/{s.c}/devices/{s.hostile_address}",
            device, f"/scans/{s.b}/findings", f"/scans/{s.c}/findings",
            f"/scans/{s.b}/removal", f"/scans/{s.c}/removal", f"/diff?old={s.a}&new={s.b}",
            f"/diff?old={s.b}&new={s.c}", f"/audits/{s.c}", "/admin/log", "/admin/users",
            "/admin/credentials", "/audits/new",
            f"/scans/{s.b}/devices/{quote(served.pwned[0], safe='')}",
        ]
        for path in pages:
            response = client.get(path)
            assert response.status_code in (200, 404), f"{path}: {response.status_code}"
            assert_inert(response.text, path)
            assert response.headers["content-security-policy"].startswith("default-src 'none'")
        device_page = client.get(f"/scans/{s.c}/devices/{s.hostile_address}").text
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in device_page
        refused = client.post("/audits", data={"targets": served.pwned[0], "csrf": csrf})
        assert refused.status_code == 400
        assert_inert(refused.text, "POST /audits with a hostile target")
        log = client.get("/admin/log").text
        assert "&lt;script&gt;" in log  # the failed login's name, shown as text


def test_a_site_user_reads_only_their_site(served: Any) -> None:
    s = served.store
    with served.api("depot-viewer") as api:
        listed = api.get("/api/v1/scans").json()["scans"]
        assert [scan["id"] for scan in listed] == [s.c]
        assert api.get(f"/api/v1/scans/{s.a}/devices").status_code == 404
        assert api.get(f"/api/v1/scans/{s.a}/devices/{s.zoo_address}").status_code == 404
        assert api.get(f"/api/v1/scans/{s.b}/devices/127.42.250.1").status_code == 404
        depot = api.get(f"/api/v1/scans/{s.c}/devices").json()
        assert {d["site"] for d in depot["devices"]} == {"depot"}
    client, _ = served.browser_session("depot-viewer")
    with client:
        for path in (f"/scans/{s.a}", f"/scans/{s.a}/devices/{s.zoo_address}",
                     f"/scans/{s.b}/findings", f"/scans/{s.b}/removal",
                     f"/scans/{s.a}/export.json", f"/scans/{s.a}/report.html",
                     f"/diff?old={s.a}&new={s.c}", f"/audits/{s.a}"):
            assert client.get(path).status_code == 404, path
        page = client.get(f"/scans/{s.c}/devices/{s.hostile_address}").text
        assert f"/scans/{s.b}/" not in page and f"/scans/{s.a}/" not in page
        assert "test site" not in client.get("/scans").text


def test_revoked_tokens_and_sessions_fail(served: Any, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from camaudit.cli import main

    db = str(served.store.path)
    monkeypatch.setenv("CAMAUDIT_NEW_PASSWORD", "a long enough password")
    with pytest.raises(SystemExit) as done:
        main(["users", "add", "leaver", "--role", "auditor", "--db", db])
    assert done.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["users", "token", "leaver", "--db", db])
    token = capsys.readouterr().out.strip()
    assert token.startswith("cam_")
    client, _ = served.browser_session("leaver")
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as api, \
            client:
        assert api.get("/api/v1/scans").status_code == 200
        assert client.get("/scans").status_code == 200
        with pytest.raises(SystemExit):
            main(["users", "revoke", "leaver", "--db", db])
        assert api.get("/api/v1/scans").status_code == 401
        assert client.get("/scans").status_code == 303
    bogus = httpx.get(f"{served.url}/api/v1/scans", headers={"Authorization": "Bearer cam_x"})
    assert bogus.status_code == 401


def test_secrets_at_rest(served: Any) -> None:
    token = served.token("viewer")
    client, csrf = served.browser_session("admin")
    with client:
        assert client.post("/admin/credentials", data={
            "name": "site-login", "username": "operator", "password": "Zoo-Secret-4711",
            "csrf": csrf}).status_code == 303
        page = client.get("/admin/credentials").text
    assert "site-login" in page and "Zoo-Secret-4711" not in page and "operator" not in page
    data = served.store.path.read_bytes() + (served.store.path.parent / "console.db-wal"
                                             ).read_bytes()
    for secret in (token, served.password, "Zoo-Secret-4711"):
        assert secret.encode() not in data
    users = served.console.users()
    assert all(u.password_hash.startswith("$argon2id$") for u in users)
    key = served.app.state.vault.key_file
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert served.store.path.parent != key.parent
    assert served.app.state.vault.open(served.console.credential_secret("site-login")) == (
        "operator", "Zoo-Secret-4711")


def test_login_rate_limit(served: Any) -> None:
    served.app.state.limiter = RateLimit(limit=5, window=300)
    try:
        with httpx.Client(base_url=served.url) as client:
            for _ in range(5):
                wrong = client.post("/login", data={"name": "viewer", "password": "wrong!"})
                assert wrong.status_code == 401
            blocked = client.post("/login", data={"name": "viewer",
                                                  "password": served.password})
            assert blocked.status_code == 429 and "try again" in blocked.text
        actions = [e["action"] for e in served.console.audit_log(20)]
        assert "login.blocked" in actions and "login.failed" in actions
    finally:
        served.app.state.limiter = RateLimit()
