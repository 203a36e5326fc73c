"""The console's pages: server-rendered with Jinja2 (autoescape), htmx for fragments.

Each route parses its input, gets its principal from ``require`` (the one permission
check), calls the store, ``service`` or ``jobs`` (the CLI's own functions) and renders a
template. Nothing here writes SQL or decides a business rule.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.background import BackgroundTask

from camaudit.errors import UsageError
from camaudit.report.csvout import DEVICE_COLUMNS, device_rows
from camaudit.report.removal import COST_CLASSES
from camaudit.store import inventory as inv
from camaudit.store.console import REMOVAL_STATUSES, ROLES, Console
from camaudit.web import service
from camaudit.web.deps import CSRF_FIELD, SESSION_COOKIE, Principal, require
from camaudit.web.jobs import AuditRequest, Jobs, NeedsConfirmation, split_lines
from camaudit.web.security import (
    burn_time,
    digest,
    hash_password,
    new_password,
    new_secret,
    new_token,
    verify_password,
)

router = APIRouter(include_in_schema=False)

Read = Annotated[Principal, Depends(require("read"))]
Evidence = Annotated[Principal, Depends(require("evidence"))]
Annotate = Annotated[Principal, Depends(require("annotate"))]
Removal = Annotated[Principal, Depends(require("removal"))]
Audit = Annotated[Principal, Depends(require("audit"))]
Credentials = Annotated[Principal, Depends(require("credentials"))]
Users = Annotated[Principal, Depends(require("users"))]

PER_PAGE = (25, 50, 100, 200)
RAW_SHOWN = 4096  # bytes of each raw observation shown on a device page (all in the bundle)


def _render(request: Request, name: str, principal: Principal | None, status: int = 200,
            **context: Any) -> HTMLResponse:
    env = request.app.state.templates
    html = env.get_template(name).render(principal=principal,
                                         csrf=principal.csrf if principal else "", **context)
    return HTMLResponse(html, status_code=status)


def _state(request: Request) -> tuple[Any, Console, Jobs]:
    return request.app.state.store, request.app.state.console, request.app.state.jobs


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _printable(raw: bytes) -> str:
    """Raw device bytes as text to show (escaped by the template): controls made visible."""
    text = raw[:RAW_SHOWN].decode("utf-8", errors="backslashreplace")
    shown = "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}"
                    for ch in text)
    return shown + (f"\n… {len(raw) - RAW_SHOWN:,} more bytes in the evidence bundle"
                    if len(raw) > RAW_SHOWN else "")


# -- login ----------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, next: str = "/scans") -> HTMLResponse:
    return _render(request, "login.html", None, next=_safe_next(next), error=None)


def _safe_next(target: str) -> str:
    """Only a path on this site (no //host, no scheme): no open redirect."""
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/scans"


@router.post("/login")
def login(request: Request, name: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)],
          next: Annotated[str, Form(max_length=2048)] = "/scans") -> Response:
    console: Console = request.app.state.console
    limiter = request.app.state.limiter
    keys = (f"user:{name.casefold()}", f"client:{_client(request)}")
    wait = limiter.retry_after(*keys)
    if wait:
        console.log(name, "login.blocked", None, {"retry_after": wait}, _client(request))
        return _render(request, "login.html", None, status=429, next=_safe_next(next),
                       error=f"Too many failed logins: try again in {wait} s.")
    user = console.find_user(name)
    if user is None:
        burn_time(password)
    if user is None or user.disabled or not verify_password(user.password_hash, password):
        limiter.failed(*keys)
        console.log(name, "login.failed", None, {}, _client(request))
        return _render(request, "login.html", None, status=401, next=_safe_next(next),
                       error="Wrong name or password.")
    limiter.succeeded(keys[0])
    token, csrf = new_secret(), new_secret()
    settings = request.app.state.settings
    from datetime import timedelta

    lifetime = timedelta(hours=settings.session_hours)
    console.open_session(user, digest(token), csrf, lifetime, _client(request))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()),
                        httponly=True, samesite="strict", secure=settings.secure_cookies,
                        path="/")
    return response


@router.post("/logout")
def logout(request: Request, principal: Read) -> Response:
    console: Console = request.app.state.console
    if principal.session_hash:
        console.close_session(principal.session_hash, principal.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- scans and inventory ----------------------------------------------------------------
@router.get("/")
def home(principal: Read) -> Response:
    return RedirectResponse("/scans", status_code=303)


@router.get("/scans")
def scans(request: Request, principal: Read) -> HTMLResponse:
    store, _, jobs = _state(request)
    rows = inv.visible_scans(store, sites=principal.sites)
    return _render(request, "scans.html", principal, scans=rows, jobs=jobs)


def _inventory_context(request: Request, principal: Principal, scan_id: int) -> dict[str, Any]:
    store = request.app.state.store
    scan = service.scan_or_404(store, scan_id, principal.sites)
    params = dict(request.query_params)
    flt = service.make_filter(params)
    sort = params.get("sort", "address")
    sort = sort if sort in inv.SORTS else "address"
    descending = params.get("desc") == "1"
    per = int(params["per"]) if params.get("per", "").isdigit() else 50
    per = per if per in PER_PAGE else 50
    page_no = max(1, int(params["page"])) if params.get("page", "").isdigit() else 1
    page = inv.query_devices(store, scan_id, flt, sites=principal.sites, sort=sort,
                             descending=descending, offset=(page_no - 1) * per, limit=per)
    pages = max(1, (page.total + per - 1) // per)
    base = {**flt.as_query(), **({"policy": params["policy"]} if params.get("policy") else {})}

    def link(**change: Any) -> str:
        query = {**base, "sort": sort, "desc": "1" if descending else "", "per": per,
                 "page": page_no, **change}
        return "?" + urlencode({k: v for k, v in query.items() if v not in ("", None)})

    return dict(scan=scan, flt=flt, params=params, page=page, page_no=page_no, pages=pages,
                per=per, per_choices=PER_PAGE, sort=sort, descending=descending, link=link,
                export=urlencode({**base, "sort": sort, "desc": "1" if descending else ""}),
                facets=inv.facets(store, scan_id, sites=principal.sites),
                sorts=inv.SORTS, policies=_policies(), worst=_worst)


def _policies() -> list[str]:
    from camaudit.assess.policy import BUILTINS

    return ["all", *BUILTINS]


def _worst(findings: list[Any]) -> str:
    from camaudit.scan_commands import _worst as worst

    return worst(findings)


@router.get("/scans/{scan_id}")
def inventory(request: Request, scan_id: int, principal: Read) -> HTMLResponse:
    context = _inventory_context(request, principal, scan_id)
    fragment = request.headers.get("hx-request") and request.headers.get("hx-target") == "inventory"
    return _render(request, "_inventory_table.html" if fragment else "inventory.html",
                   principal, **context)


@router.get("/scans/{scan_id}/export.{fmt}")
def export(request: Request, scan_id: int, fmt: str, principal: Read) -> Response:
    """The current view (filters and sort of the page), as CSV or camaudit/1 JSON."""
    store = request.app.state.store
    service.scan_or_404(store, scan_id, principal.sites)
    params = dict(request.query_params)
    sort = params.get("sort", "address")
    devices = list(inv.iter_scan_devices(store, scan_id, service.make_filter(params),
                                         sites=principal.sites,
                                         sort=sort if sort in inv.SORTS else "address",
                                         descending=params.get("desc") == "1"))
    doc = service.document(store, scan_id, devices, principal.sites)
    name = f"camaudit-scan-{scan_id}"
    if fmt == "json":
        return Response(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                        media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel reads UTF-8 only with a byte-order mark
        writer = csv.DictWriter(buffer, fieldnames=DEVICE_COLUMNS)
        writer.writeheader()
        writer.writerows(device_rows(doc))
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    raise LookupError(f"no export format {fmt!r} (csv or json)")


@router.get("/scans/{scan_id}/devices/{address}")
def device_page(request: Request, scan_id: int, address: str, principal: Read) -> HTMLResponse:
    store, console, _ = _state(request)
    scan = service.scan_or_404(store, scan_id, principal.sites)
    device = inv.device(store, scan_id, address, sites=principal.sites)
    if device is None:
        raise LookupError(f"no device {address} in scan {scan_id}")
    lines, observations = service.explain(store, scan_id, device)
    key = inv.device_key(device)
    marks = console.removal_history(key)
    return _render(
        request, "device.html", principal, scan=scan, device=device, explain=lines,
        observations=[(o, _printable(o.raw)) for o in observations],
        history=inv.history(store, device, sites=principal.sites),
        notes=console.notes(key), marks=marks, mark=marks[-1] if marks else None,
        statuses=REMOVAL_STATUSES, worst=_worst(device.findings),
        restricted=any(f.kind == "restriction" and f.status in ("open", "possible")
                       for f in device.findings))


@router.post("/scans/{scan_id}/devices/{address}/notes")
def add_note(request: Request, scan_id: int, address: str, principal: Annotate,
             text: Annotated[str, Form(min_length=1, max_length=4000)]) -> Response:
    store, console, _ = _state(request)
    service.scan_or_404(store, scan_id, principal.sites)
    device = inv.device(store, scan_id, address, sites=principal.sites)
    if device is None:
        raise LookupError(f"no device {address} in scan {scan_id}")
    console.add_note(inv.device_key(device), scan_id, address, principal.name, text.strip())
    key = inv.device_key(device)
    if request.headers.get("hx-request"):
        return _render(request, "_notes.html", principal, notes=console.notes(key),
                       scan={"id": scan_id}, device=device)
    return RedirectResponse(f"/scans/{scan_id}/devices/{address}#notes", status_code=303)


# -- findings, removal, diff -----------------------------------------------------------------
@router.get("/scans/{scan_id}/findings")
def findings_page(request: Request, scan_id: int, principal: Read) -> HTMLResponse:
    store = request.app.state.store
    scan = service.scan_or_404(store, scan_id, principal.sites)
    from camaudit.report.summary import KIND_ADVICE

    return _render(request, "findings.html", principal, scan=scan,
                   summary=service.findings(store, scan_id, principal.sites),
                   advice=KIND_ADVICE, shown=50)


@router.get("/scans/{scan_id}/removal")
def removal_page(request: Request, scan_id: int, principal: Read,
                 page: int = 1) -> HTMLResponse:
    store, console, _ = _state(request)
    scan = service.scan_or_404(store, scan_id, principal.sites)
    view = service.removal(store, console, scan_id, principal.sites)
    per = 100
    pages = max(1, (len(view.rows) + per - 1) // per)
    page = min(max(1, page), pages)
    return _render(request, "removal.html", principal, scan=scan, view=view,
                   rows=view.rows[(page - 1) * per: page * per], page_no=page, pages=pages,
                   statuses=REMOVAL_STATUSES, classes=COST_CLASSES,
                   costs_set=console.unit_costs())


@router.get("/scans/{scan_id}/allow-list.yaml")
def allow_list(request: Request, scan_id: int, principal: Read) -> Response:
    """Accepted devices as a policy file's allow list, for the CLI's next scans."""
    store, console, _ = _state(request)
    service.scan_or_404(store, scan_id, principal.sites)
    view = service.removal(store, console, scan_id, principal.sites)
    return PlainTextResponse(service.allow_list(view, scan_id), media_type="application/yaml",
                             headers={"Content-Disposition": "attachment; "
                                      f'filename="camaudit-allow-list-{scan_id}.yaml"'})


@router.post("/scans/{scan_id}/removal/{address}")
def mark_removal(request: Request, scan_id: int, address: str, principal: Removal,
                 status: Annotated[str, Form(max_length=16)],
                 reason: Annotated[str, Form(max_length=2000)] = "",
                 expires: Annotated[str, Form(max_length=10)] = "",
                 back: Annotated[str, Form(max_length=16)] = "removal") -> Response:
    store, console, _ = _state(request)
    service.scan_or_404(store, scan_id, principal.sites)
    device = inv.device(store, scan_id, address, sites=principal.sites)
    if device is None:
        raise LookupError(f"no device {address} in scan {scan_id}")
    console.mark_removal(device_key=inv.device_key(device), scan_id=scan_id, address=address,
                         site=device.site, status=status, reason=reason.strip() or None,
                         expires=service.parse_date(expires), who=principal.name)
    target = (f"/scans/{scan_id}/devices/{address}#removal" if back == "device"
              else f"/scans/{scan_id}/removal")
    return RedirectResponse(target, status_code=303)


@router.post("/costs")
def set_cost(request: Request, principal: Removal,
             device_class: Annotated[str, Form(max_length=16)],
             hardware: Annotated[float, Form(ge=0, le=1e9)],
             labour: Annotated[float, Form(ge=0, le=1e9)],
             replace_with: Annotated[str, Form(max_length=500)] = "",
             back: Annotated[int, Form()] = 0) -> Response:
    _, console, _ = _state(request)
    if device_class not in COST_CLASSES:
        raise UsageError(f"class must be one of {', '.join(COST_CLASSES)}")
    current = service.cost_table(console).classes[device_class]
    console.set_unit_cost(device_class, replace_with.strip() or current.replace_with,
                          hardware, labour, principal.name)
    return RedirectResponse(f"/scans/{back}/removal" if back else "/scans", status_code=303)


@router.get("/diff")
def diff_page(request: Request, principal: Read, old: int | None = None,
              new: int | None = None) -> HTMLResponse:
    store = request.app.state.store
    rows = inv.visible_scans(store, sites=principal.sites)
    result = None
    if old is not None and new is not None:
        service.scan_or_404(store, old, principal.sites)
        service.scan_or_404(store, new, principal.sites)
        result = service.diff(store, old, new, principal.sites)
    return _render(request, "diff.html", principal, scans=rows, old=old, new=new,
                   result=result)


# -- downloads ---------------------------------------------------------------------------
@router.get("/scans/{scan_id}/report.html")
def report_download(request: Request, scan_id: int, principal: Read) -> Response:
    store, console, _ = _state(request)
    service.scan_or_404(store, scan_id, principal.sites)
    work = Path(tempfile.mkdtemp(prefix="camaudit-report-"))
    path = service.report_html(store, console, scan_id, principal.sites,
                               work / f"camaudit-report-{scan_id}.html")
    return FileResponse(path, media_type="text/html", filename=path.name,
                        background=BackgroundTask(_remove, path),
                        # the report carries its own CSP (hashes of its script and style)
                        headers={"Content-Security-Policy": "default-src 'none'; sandbox"})


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()


@router.get("/scans/{scan_id}/evidence.zip")
def evidence_download(request: Request, scan_id: int, principal: Evidence) -> Response:
    store, console, _ = _state(request)
    service.scan_or_404(store, scan_id, principal.sites)
    work = Path(tempfile.mkdtemp(prefix="camaudit-evidence-"))
    path = service.evidence_bundle(store, scan_id, principal.sites,
                                   request.app.state.settings.secrets_dir,
                                   work / f"camaudit-evidence-{scan_id}.zip")
    console.log(principal.name, "evidence.download", f"scan {scan_id}", {},
                _client(request))
    return FileResponse(path, media_type="application/zip", filename=path.name,
                        background=BackgroundTask(_remove, path))


@router.get("/signer.pub")
def signer_key(request: Request, principal: Read) -> Response:
    """The public key of the console's evidence signatures, to verify a bundle with."""
    from camaudit.report.signing import public_path

    key = service.signing_key(request.app.state.settings.secrets_dir)
    return PlainTextResponse(public_path(key).read_text(), headers={
        "Content-Disposition": 'attachment; filename="camaudit-console-signer.pub"'})


# -- audits from the browser --------------------------------------------------------------
@router.get("/audits/new")
def audit_form(request: Request, principal: Audit) -> HTMLResponse:
    console: Console = request.app.state.console
    return _render(request, "audit_new.html", principal, policies=_policies(),
                   credentials=console.credential_names(), error=None, form={}, confirm=None)


@router.post("/audits")
def start_audit(request: Request, principal: Audit,
                targets: Annotated[str, Form(max_length=20000)],
                exclude: Annotated[str, Form(max_length=20000)] = "",
                ports: Annotated[str, Form(max_length=2000)] = "",
                policy: Annotated[str, Form(max_length=64)] = "all",
                site: Annotated[str, Form(max_length=200)] = "",
                credential: Annotated[str, Form(max_length=64)] = "",
                loose: Annotated[str, Form(max_length=8)] = "",
                yes: Annotated[str, Form(max_length=8)] = "") -> Response:
    console: Console = request.app.state.console
    jobs: Jobs = request.app.state.jobs
    form = dict(targets=targets, exclude=exclude, ports=ports, policy=policy, site=site,
                credential=credential, loose=loose)
    if principal.sites is not None and site not in principal.sites:
        raise UsageError("you may start audits only for your sites: "
                         + ", ".join(principal.sites))
    audit = AuditRequest(split_lines(targets), split_lines(exclude), ports, policy,
                         site.strip() or None, credential or None, bool(loose), yes == "1")
    try:
        creds = _device_login(request, credential)
        job = jobs.start(audit, principal.name, creds)
    except NeedsConfirmation as exc:
        return _render(request, "audit_new.html", principal, policies=_policies(),
                       credentials=console.credential_names(), error=None, form=form,
                       confirm=exc)
    except UsageError as exc:
        return _render(request, "audit_new.html", principal, status=400, policies=_policies(),
                       credentials=console.credential_names(), error=str(exc), form=form,
                       confirm=None)
    console.log(principal.name, "audit.start", f"scan {job.scan_id}",
                {"targets": audit.targets, "excludes": audit.excludes, "policy": policy,
                 "site": audit.site, "credential": credential or None,
                 "addresses": job.total}, _client(request))
    return RedirectResponse(f"/audits/{job.scan_id}", status_code=303)


def _device_login(request: Request, name: str) -> Any:
    """The stored device credential `name`, decrypted in memory for this audit only."""
    if not name:
        return None
    from camaudit.probes.base import Credentials as DeviceLogin

    console: Console = request.app.state.console
    user, password = request.app.state.vault.open(console.credential_secret(name))
    return DeviceLogin(user, password)


def _progress(request: Request, scan_id: int, principal: Principal) -> dict[str, Any]:
    store, _, jobs = _state(request)
    scan = service.scan_or_404(store, scan_id, principal.sites)
    return dict(scan=scan, job=jobs.get(scan_id))


@router.get("/audits/{scan_id}")
def audit_page(request: Request, scan_id: int, principal: Read) -> HTMLResponse:
    return _render(request, "audit.html", principal, **_progress(request, scan_id, principal))


@router.get("/audits/{scan_id}/progress")
def audit_progress(request: Request, scan_id: int, principal: Read) -> HTMLResponse:
    return _render(request, "_progress.html", principal,
                   **_progress(request, scan_id, principal))


# -- administration ---------------------------------------------------------------------------
@router.get("/admin/users")
def users_page(request: Request, principal: Users) -> HTMLResponse:
    console: Console = request.app.state.console
    users = [(u, console.tokens(u.name)) for u in console.users()]
    return _render(request, "users.html", principal, users=users, roles=ROLES, shown=None,
                   error=None)


@router.post("/admin/users")
def add_user(request: Request, principal: Users, name: Annotated[str, Form(max_length=64)],
             role: Annotated[str, Form(max_length=16)],
             sites: Annotated[str, Form(max_length=2000)] = "") -> HTMLResponse:
    console: Console = request.app.state.console
    password = new_password()
    site_list = split_lines(sites) or None
    console.add_user(_user_name(name), role, hash_password(password), site_list,
                     by=principal.name)
    users = [(u, console.tokens(u.name)) for u in console.users()]
    return _render(request, "users.html", principal, users=users, roles=ROLES, error=None,
                   shown={"what": f"Password of {name} (shown once)", "secret": password})


def _user_name(name: str) -> str:
    name = name.strip()
    if not name or not all(c.isalnum() or c in "._-@" for c in name):
        raise UsageError("a user name is letters, digits and . _ - @")
    return name


@router.post("/admin/users/{name}/token")
def user_token(request: Request, name: str, principal: Users) -> HTMLResponse:
    console: Console = request.app.state.console
    token, token_hash, prefix = new_token()
    console.add_token(name, token_hash, prefix, by=principal.name)
    users = [(u, console.tokens(u.name)) for u in console.users()]
    return _render(request, "users.html", principal, users=users, roles=ROLES, error=None,
                   shown={"what": f"API token of {name} (shown once)", "secret": token})


@router.post("/admin/users/{name}/revoke")
def user_revoke(request: Request, name: str, principal: Users,
                disable: Annotated[str, Form(max_length=8)] = "") -> Response:
    console: Console = request.app.state.console
    console.revoke(name, disable=bool(disable), by=principal.name)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/log")
def log_page(request: Request, principal: Users) -> HTMLResponse:
    console: Console = request.app.state.console
    return _render(request, "log.html", principal, entries=console.audit_log())


@router.get("/admin/credentials")
def credentials_page(request: Request, principal: Credentials) -> HTMLResponse:
    console: Console = request.app.state.console
    return _render(request, "credentials.html", principal,
                   credentials=console.credential_names(),
                   key_file=request.app.state.vault.key_file)


@router.post("/admin/credentials")
def set_credential(request: Request, principal: Credentials,
                   name: Annotated[str, Form(min_length=1, max_length=64)],
                   username: Annotated[str, Form(min_length=1, max_length=256)],
                   password: Annotated[str, Form(min_length=1, max_length=1024)]) -> Response:
    console: Console = request.app.state.console
    console.set_credential(_user_name(name), request.app.state.vault.seal(username, password),
                           principal.name)
    return RedirectResponse("/admin/credentials", status_code=303)


__all__ = ["CSRF_FIELD", "router"]
