"""The one permission table: which role may do what. Routes name a permission through
``deps.require``; the authorisation-matrix test reads this same table, so the code and the
test cannot drift apart.

Roles grow by inclusion: an auditor can do all a viewer can, an admin all an auditor can.
Reading is limited further by site (``users.sites``): a user bound to some sites sees only
their devices, whatever the role.
"""

from __future__ import annotations

from camaudit.store.console import ROLES

VIEWER, AUDITOR, ADMIN = ROLES

PERMISSIONS: dict[str, frozenset[str]] = {
    # scans, inventory, device pages, findings, removal plan, diff, exports, HTML report
    "read": frozenset({VIEWER, AUDITOR, ADMIN}),
    # signed evidence bundles (every raw observation of the scan)
    "evidence": frozenset({AUDITOR, ADMIN}),
    # notes on a device
    "annotate": frozenset({AUDITOR, ADMIN}),
    # removal status (planned / replaced / accepted) and unit costs
    "removal": frozenset({AUDITOR, ADMIN}),
    # start an audit (the scope gate and the large-scope confirmation still apply)
    "audit": frozenset({AUDITOR, ADMIN}),
    # stored device credentials (write only: never shown back)
    "credentials": frozenset({ADMIN}),
    # accounts, API tokens, the audit log
    "users": frozenset({ADMIN}),
}

#: Routes anyone may reach without logging in: (method, path template).
PUBLIC: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/login"), ("POST", "/login"), ("GET", "/api/v1/openapi.json"),
    ("GET", "/static"),
})


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]
