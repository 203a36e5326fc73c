"""Commands of the web area: ``serve`` and ``users`` (add, token, revoke, list).

``serve`` on a store without accounts makes a first admin, ``admin``, and prints its
password once. Passwords come from ``$CAMAUDIT_NEW_PASSWORD`` or a prompt; tokens are
printed once and only their hash is kept.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from camaudit.cliutil import DEFAULT_DB, DbOption, info, out
from camaudit.errors import UsageError

users_app = typer.Typer(help="Console accounts: add users, make API tokens, revoke them.",
                        no_args_is_help=True,
                        epilog="Example:\n\n  camaudit users add alice --role auditor")

SecretsOption = Annotated[Path | None, typer.Option(
    "--secrets", file_okay=False, help="Directory of the console's keys (device-credential "
    "key, evidence-signing key), outside the database (env CAMAUDIT_CONSOLE_SECRETS; "
    "default ~/.config/camaudit/console).")]


def _console(db: str):  # type: ignore[no-untyped-def]
    from camaudit.store import Store
    from camaudit.store.console import Console

    return Console(Store(db))


def first_admin(console: object) -> str | None:
    """Make the first admin of an empty store; return its password (to print once)."""
    from camaudit.store.console import Console
    from camaudit.web.security import hash_password, new_password

    assert isinstance(console, Console)
    if console.user_count():
        return None
    password = new_password()
    console.add_user("admin", "admin", hash_password(password), by="camaudit serve")
    return password


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Address to listen on. Other than loopback, put "
                                      "the console behind HTTPS (--secure-cookies).")]
        = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8080,
    secrets: SecretsOption = None,
    secure_cookies: Annotated[bool, typer.Option(help="Mark session cookies Secure (when "
                                                 "served over HTTPS).")] = False,
    allowed_host: Annotated[list[str] | None, typer.Option(
        help="Host names the console answers to (besides the --host address, 127.0.0.1 and "
             "localhost); repeatable.")] = None,
) -> None:
    """Serve the web console and the REST API (/api/v1) over the store.

    Example: camaudit serve --db out/demo/camaudit.db
    """
    import uvicorn

    from camaudit.web.app import Settings, create_app, default_secrets_dir

    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise UsageError(f"--host must be an IP address, not {host!r}") from exc
    hosts = ["127.0.0.1", "localhost", "::1", host, *(allowed_host or [])]
    settings = Settings(db=db, secrets_dir=secrets or default_secrets_dir(),
                        secure_cookies=secure_cookies, allowed_hosts=hosts)
    app = create_app(settings)
    password = first_admin(app.state.console)
    shown = f"[{host}]" if ":" in host else host
    if password:
        out.print("first start: made the account 'admin' with the password (shown once, "
                  "not stored):", markup=False)
        out.print(f"  {password}", markup=False)
    out.print(f"camaudit console on http://{shown}:{port}/ (store {app.state.store.url}; "
              f"keys in {settings.secrets_dir})", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def _new_password() -> str:
    from camaudit.web.security import hash_password

    password = os.environ.get("CAMAUDIT_NEW_PASSWORD")
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return hash_password(password)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    role: Annotated[str, typer.Option(help="viewer, auditor or admin.")] = "viewer",
    site: Annotated[list[str] | None, typer.Option(
        help="Limit the user to devices of this site; repeatable (default: every site).")]
        = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add a console user (password from $CAMAUDIT_NEW_PASSWORD or a prompt).

    Example: CAMAUDIT_NEW_PASSWORD=... camaudit users add alice --role auditor --site depot
    """
    console = _console(db)
    user = console.add_user(name, role, _new_password(), list(site) if site else None,
                            by="cli")
    info(f"added {user.name} ({user.role}; sites: "
         f"{', '.join(user.sites) if user.sites is not None else 'all'})")


@users_app.command("token")
def users_token(name: Annotated[str, typer.Argument(help="The user's name.")],
                db: DbOption = DEFAULT_DB) -> None:
    """Make an API token for a user and print it once (only its hash is kept).

    Example: camaudit users token alice
    """
    from camaudit.web.security import new_token

    console = _console(db)
    token, token_hash, prefix = new_token()
    console.add_token(name, token_hash, prefix, by="cli")
    out.print(token, markup=False)
    info("use it as: Authorization: Bearer TOKEN (shown once; revoke with "
         f"camaudit users revoke {name})")


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="The user's name.")],
                 disable: Annotated[bool, typer.Option(help="Also block the user's "
                                                       "password login.")] = False,
                 db: DbOption = DEFAULT_DB) -> None:
    """Revoke every API token and session of a user.

    Example: camaudit users revoke alice --disable
    """
    count = _console(db).revoke(name, disable=disable, by="cli")
    info(f"revoked {count} token(s) and every session of {name}"
         + ("; login disabled" if disable else ""))


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB) -> None:
    """List the console's users.

    Example: camaudit users list --db out/demo/camaudit.db
    """
    for user in _console(db).users():
        sites = ", ".join(user.sites) if user.sites is not None else "all sites"
        state = "disabled" if user.disabled else "active"
        out.print(f"{user.name}\t{user.role}\t{sites}\t{state}", markup=False)


def register(app: typer.Typer) -> None:
    app.command(epilog="Example:\n\n  camaudit serve --db out/demo/camaudit.db")(serve)
    app.add_typer(users_app, name="users")
