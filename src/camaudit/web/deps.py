"""The one dependency every route goes through: who is asking, and may they?

``require(permission)`` authenticates the request (pages: the session cookie; the API:
``Authorization: Bearer TOKEN``, nothing else), checks the role against the permission
table, and for a state-changing page request checks the CSRF token. It returns the
:class:`Principal`, whose ``sites`` every read of devices must pass on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from camaudit.store.console import Console, User
from camaudit.web.permissions import PERMISSIONS, allowed
from camaudit.web.security import digest, same

SESSION_COOKIE = "camaudit_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page asked without a session: the app answers with a redirect to /login."""


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # "session" or "token"
    csrf: str | None = None
    session_hash: str | None = None

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def sites(self) -> tuple[str, ...] | None:
        return self.user.sites

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(console: Console, request: Request) -> Principal | None:
    """The principal behind the request, or None (blocking: run in a thread)."""
    if is_api(request):
        token = _bearer(request)
        user = console.user_by_token(digest(token)) if token else None
        return Principal(user, "token") if user else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    session_hash = digest(cookie)
    session = console.session(session_hash)
    if session is None:
        return None
    return Principal(session.user, "session", session.csrf, session_hash)


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency that admits only roles holding `permission`."""
    if permission not in PERMISSIONS:
        raise KeyError(f"no permission {permission!r} in the table")

    async def dependency(request: Request) -> Principal:
        console: Console = request.app.state.console
        principal = await run_in_threadpool(authenticate, console, request)
        if principal is None:
            if is_api(request):
                raise HTTPException(401, "an API token is needed (Authorization: Bearer ...)",
                                    headers={"WWW-Authenticate": "Bearer"})
            raise LoginRequired
        if not principal.can(permission):
            raise HTTPException(403, f"your role ({principal.role}) may not do this "
                                f"(needs '{permission}')")
        if principal.via == "session" and request.method not in SAFE_METHODS:
            await _check_csrf(request, principal)
        request.state.principal = principal
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


async def _check_csrf(request: Request, principal: Principal) -> None:
    """A state-changing request from a page must carry the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # Starlette caches it for the route's own Form fields
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not same(sent, principal.csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")


def permission_of(route: Any) -> str | None:
    """The permission a route requires (read from its dependencies), or None."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant else []
    while stack:
        dep = stack.pop()
        found = getattr(dep.call, "permission", None)
        if found:
            return str(found)
        stack.extend(dep.dependencies)
    return None
