"""The web console and REST API (``camaudit serve``): FastAPI, Jinja2, htmx.

    permissions.py  the one table of which role may do what (code and tests read it)
    deps.py         the one dependency: authenticate (session or bearer token), check the
                    role, check CSRF on state-changing page requests
    security.py     argon2 passwords, hashed tokens and sessions, login rate limit,
                    the key file that encrypts stored device credentials
    service.py      what routes call: the CLI's functions (document, removal plan, diff,
                    explain, evidence bundle), limited to the reader's sites
    jobs.py         audits started from the browser/API: the CLI's scope gate, in a thread
    routes_pages.py server-rendered pages; routes_api.py /api/v1 (OpenAPI, ETags)
    app.py          settings, security headers (CSP: self only), error pages
    templates/      Jinja2, autoescaped; fragments (``_*.html``) too
    static/         htmx (vendored, pinned, with its licence) and the stylesheet
    commands.py     ``serve`` and ``users``

Records live in the store (``store/console.py``, ``store/inventory.py``); no route writes
SQL. Device strings are untrusted: templates escape them, pages send a strict CSP.
"""
