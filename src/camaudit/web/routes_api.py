"""The REST API under /api/v1: the camaudit/1 shapes, pagination, ETags.

A device here is exactly a device of ``camaudit scan --json`` (``Device.to_json``), and a
page of devices is itself a camaudit/1 document (keys may be added: ``page``). GET answers
carry a strong ETag over the body; ``If-None-Match`` with it answers 304. Authentication is
``Authorization: Bearer TOKEN`` only (no cookies, so no CSRF to forge).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from camaudit.errors import UsageError
from camaudit.output import _iso
from camaudit.store import inventory as inv
from camaudit.web import service
from camaudit.web.deps import Principal, require
from camaudit.web.jobs import AuditRequest, Jobs, NeedsConfirmation

router = APIRouter(prefix="/api/v1", tags=["camaudit/1"])

Read = Annotated[Principal, Depends(require("read"))]
Audit = Annotated[Principal, Depends(require("audit"))]
MAX_PER_PAGE = 1000


def _etagged(request: Request, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    tag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    given = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if tag in given or f"W/{tag}" in given:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json",
                    headers={"ETag": tag, "Cache-Control": "private, no-cache", **(headers or {})})


def _scan_json(scan: dict[str, Any], jobs: Jobs) -> dict[str, Any]:
    """A scan as the camaudit/1 document's "scan" object, plus live progress if running."""
    job = jobs.get(int(scan["id"]))
    return {"id": scan["id"], "kind": scan["kind"], "status": scan["status"],
            "started": _iso(scan["started"]), "finished": _iso(scan["finished"]),
            "targets": list(scan["targets"]), "excludes": list(scan["excludes"]),
            "ports": list(scan["ports"]), "policies": list(scan["policies"]),
            "site": scan["site"], "tool_version": scan["tool_version"],
            "stats": scan.get("stats") or {},
            "progress": job.as_dict() if job is not None else None}


@router.get("/scans", summary="List the scans you may read, newest first")
def list_scans(request: Request, principal: Read,
               page: Annotated[int, Query(ge=1)] = 1,
               per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100) -> Response:
    rows = inv.visible_scans(request.app.state.store, sites=principal.sites)
    shown = rows[(page - 1) * per_page: page * per_page]
    return _etagged(request, {"scans": [_scan_json(s, request.app.state.jobs) for s in shown],
                              "page": {"page": page, "per_page": per_page,
                                       "total": len(rows)}})


@router.get("/scans/{scan_id}", summary="One scan, with its live progress while it runs")
def get_scan(request: Request, scan_id: int, principal: Read) -> Response:
    scan = service.scan_or_404(request.app.state.store, scan_id, principal.sites)
    return _etagged(request, {"scan": _scan_json(scan, request.app.state.jobs)})


@router.get("/scans/{scan_id}/devices",
            summary="Devices of a scan as a camaudit/1 document, filtered, sorted, paged")
def list_devices(
    request: Request, scan_id: int, principal: Read,
    site: str = "", device_type: str = "", manufacturer: str = "", brand: str = "",
    model: str = "", firmware: str = "", finding: str = "", regime: str = "",
    kind: str = "", policy: str = "", q: str = "",
    sort: Annotated[str, Query(pattern="^(" + "|".join(inv.SORTS) + ")$")] = "address",
    desc: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100,
) -> Response:
    store = request.app.state.store
    service.scan_or_404(store, scan_id, principal.sites)
    params = {"site": site, "device_type": device_type, "manufacturer": manufacturer,
              "brand": brand, "model": model, "firmware": firmware, "finding": finding,
              "regime": regime, "kind": kind, "policy": policy, "q": q}
    flt = service.make_filter(params)
    result = inv.query_devices(store, scan_id, flt, sites=principal.sites, sort=sort,
                               descending=desc, offset=(page - 1) * per_page, limit=per_page)
    doc = service.document(store, scan_id, result.devices, principal.sites)
    doc["page"] = {"page": page, "per_page": per_page, "total": result.total}
    headers = {}
    if page * per_page < result.total:
        query = {k: v for k, v in params.items() if v}
        query.update(sort=sort, page=str(page + 1), per_page=str(per_page))
        if desc:
            query["desc"] = "true"
        headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return _etagged(request, doc, headers)


@router.get("/scans/{scan_id}/devices/{address}",
            summary="One device, exactly as in the camaudit/1 document")
def get_device(request: Request, scan_id: int, address: str, principal: Read) -> Response:
    store = request.app.state.store
    service.scan_or_404(store, scan_id, principal.sites)
    device = inv.device(store, scan_id, address, sites=principal.sites)
    if device is None:
        raise LookupError(f"no device {address} in scan {scan_id}")
    return _etagged(request, device.to_json())


class ScanRequest(BaseModel):
    """An audit to start: the same checks as ``camaudit scan`` (scope gate, --yes)."""

    targets: list[str] = Field(min_length=1, max_length=1000,
                               description="Addresses, CIDR blocks, ranges or host names")
    exclude: list[str] = Field(default_factory=list, max_length=1000)
    ports: str = Field("", max_length=2000, description="e.g. 80,443,8000-8010; "
                       "empty: the camera ports")
    policy: str = Field("all", max_length=64)
    site: str | None = Field(None, max_length=200)
    credential: str | None = Field(None, max_length=64,
                                   description="Name of a device login stored in the console")
    loose: bool = False
    yes: bool = Field(False, description="Confirm a scope over 65,536 addresses")


@router.post("/scans", status_code=202, summary="Start an audit (auditor and admin only)",
             responses={409: {"description": "The scope is large: resend with yes=true"}})
def start_scan(request: Request, body: ScanRequest, principal: Audit) -> Response:
    if principal.sites is not None and body.site not in principal.sites:
        raise UsageError("you may start audits only for your sites: "
                         + ", ".join(principal.sites))
    jobs: Jobs = request.app.state.jobs
    audit = AuditRequest(body.targets, body.exclude, body.ports, body.policy, body.site,
                         body.credential, body.loose, body.yes)
    creds = None
    if body.credential:
        from camaudit.probes.base import Credentials

        secret = request.app.state.console.credential_secret(body.credential)
        creds = Credentials(*request.app.state.vault.open(secret))
    try:
        job = jobs.start(audit, principal.name, creds)
    except NeedsConfirmation as exc:
        return JSONResponse({"detail": str(exc), "scope": exc.summary.as_dict()},
                            status_code=409)
    request.app.state.console.log(principal.name, "audit.start", f"scan {job.scan_id}",
                                  {"targets": audit.targets, "excludes": audit.excludes,
                                   "policy": audit.policy, "site": audit.site,
                                   "credential": audit.credential, "addresses": job.total,
                                   "via": "api"})
    scan = request.app.state.store.scan(job.scan_id)
    return JSONResponse({"scan": _scan_json(scan, jobs), "scope": job.lines},
                        status_code=202, headers={"Location": f"/api/v1/scans/{job.scan_id}"})
