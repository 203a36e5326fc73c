"""The console application: settings, security headers, error pages, routers.

``create_app`` wires one store (SQLite or PostgreSQL) to the page routes
(``routes_pages``), the REST API (``routes_api``, OpenAPI at /api/v1/openapi.json) and
the static files shipped in the wheel (htmx, the stylesheet). No asset comes from
elsewhere: the Content-Security-Policy admits scripts and styles from this origin only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from camaudit import __version__
from camaudit.errors import CamauditError, StoreError, UsageError
from camaudit.report.html import safe_url
from camaudit.store import Store
from camaudit.store.console import Console
from camaudit.web import service
from camaudit.web.deps import LoginRequired, is_api, permission_of
from camaudit.web.jobs import Jobs
from camaudit.web.permissions import PUBLIC
from camaudit.web.security import RateLimit, Vault

STATIC = Path(__file__).with_name("static")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def default_secrets_dir() -> Path:
    """Where the credential key and the evidence-signing key live: outside the database."""
    env = os.environ.get("CAMAUDIT_CONSOLE_SECRETS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "camaudit" / "console"


@dataclass
class Settings:
    db: str
    secrets_dir: Path = field(default_factory=default_secrets_dir)
    session_hours: float = 12.0
    secure_cookies: bool = False  # set when served behind HTTPS
    allowed_hosts: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])
    login_limit: int = 5  # failed logins per user name and per client address ...
    login_window: float = 300.0  # ... in this many seconds


def templates() -> Environment:
    env = Environment(loader=PackageLoader("camaudit.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_url"] = safe_url
    env.filters["money"] = lambda v: f"{v:,.0f}"
    env.filters["dash"] = lambda v: "—" if v is None or v == "" else v
    env.filters["when"] = lambda v: v.strftime("%Y-%m-%d %H:%M UTC") if v else "—"
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.globals["version"] = __version__
    return env


def create_app(settings: Settings) -> FastAPI:
    from camaudit.web import routes_api, routes_pages

    app = FastAPI(title="camaudit console API", version=__version__,
                  description="The camaudit/1 inventory, findings and audits of one store. "
                  "Authenticate with `Authorization: Bearer TOKEN` (`camaudit users token "
                  "NAME`).", docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json")
    store = Store(settings.db)
    app.state.settings = settings
    app.state.store = store
    app.state.console = Console(store)
    app.state.jobs = Jobs(store)
    app.state.vault = Vault(settings.secrets_dir / "credentials.key")
    app.state.limiter = RateLimit(settings.login_limit, settings.login_window)
    app.state.templates = templates()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        if (request.method not in ("GET", "HEAD", "OPTIONS") and not is_api(request)
                and not _same_origin(request)):
            return _error(request, 403, "cross-site request refused")
        started = time.perf_counter()
        response: Response = await call_next(request)
        # Server time of the request (W3C Server-Timing): what benchmarks/web_console.py reads.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1e3:.1f}"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # no-referrer makes Origin "null"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                          for e in exc.errors()[:5])
        return _error(request, 422, f"invalid request: {where}")

    @app.exception_handler(LookupError)
    async def missing(request: Request, exc: LookupError) -> Response:
        return _error(request, 404, str(exc).strip("'\""))

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        return _error(request, 503, str(exc))

    @app.exception_handler(CamauditError)
    async def other(request: Request, exc: CamauditError) -> Response:
        return _error(request, 500, str(exc))

    app.include_router(routes_api.router)
    app.include_router(routes_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.router.add_event_handler("shutdown", store.close)
    app.router.add_event_handler("startup", lambda: threading.Thread(
        target=service.warm_up, name="camaudit-warm-up", daemon=True).start())
    for method, path, permission in route_table():
        if (permission is None) != ((method, path) in PUBLIC):
            raise RuntimeError(f"{method} {path}: every route names a permission or is public")
    return app


def route_table() -> list[tuple[str, str, str | None]]:
    """(method, path, permission) of every route the console serves: the authorisation
    matrix walks this list, and ``create_app`` refuses a route without a permission."""
    from camaudit.web import routes_api, routes_pages

    table: list[tuple[str, str, str | None]] = [("GET", "/api/v1/openapi.json", None),
                                                ("GET", "/static", None)]
    for router in (routes_api.router, routes_pages.router):
        for route in router.routes:
            for method in sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}):
                table.append((method, str(getattr(route, "path", "")), permission_of(route)))
    return table


def _same_origin(request: Request) -> bool:
    """A browser sends Origin on every POST; it must name this host (no cross-site form)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _error(request: Request, status: int, message: str,
           headers: Mapping[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if is_api(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    env: Environment = request.app.state.templates
    page = env.get_template("error.html").render(status=status, message=message,
                                                 principal=getattr(request.state, "principal",
                                                                   None), csrf="")
    return HTMLResponse(page, status_code=status, headers=headers)
