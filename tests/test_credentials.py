"""Logins from a file the operator controls: per network, per site, default; mode checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from camaudit.credentials import load
from camaudit.errors import UsageError


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "logins.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


BOOK = """
default: {user: admin, password: zero}
sites:
  HQ: {user: hq, password_env: HQ_PASSWORD}
devices:
  10.1.0.0/16: {user: wide, password: one}
  10.1.2.0/24: {user: narrow, password: two}
  192.0.2.7: {user: single, password: three}
"""


def test_the_most_specific_login_wins(tmp_path: Path) -> None:
    book = load(_file(tmp_path, BOOK), env={"HQ_PASSWORD": "four"})
    assert book.for_host("10.1.2.9").user == "narrow"  # type: ignore[union-attr]
    assert book.for_host("10.1.9.9", site="HQ").user == "wide"  # type: ignore[union-attr]
    assert book.for_host("192.0.2.7").user == "single"  # type: ignore[union-attr]
    hq = book.for_host("198.51.100.1", site="HQ")
    assert hq is not None and (hq.user, hq.password) == ("hq", "four")
    assert book.for_host("198.51.100.1").user == "admin"  # type: ignore[union-attr]
    assert "zero" not in repr(book) and "four" not in repr(book)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_open_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(UsageError, match="chmod 600"):
        load(_file(tmp_path, BOOK, mode), env={"HQ_PASSWORD": "x"})


@pytest.mark.parametrize(("text", "why"), [
    ("default: {user: admin}", "password"),
    ("devices: {not-a-network: {user: a, password: b}}", "not an address"),
    ("sites: {HQ: {user: a, password_env: MISSING}}", "MISSING is not set"),
    ("other: 1", "expected the keys"),
    ("default: [unclosed: secret-value", "not readable YAML"),
])
def test_errors_name_the_entry_never_a_value(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why) as info:
        load(_file(tmp_path, text), env={})
    assert "secret-value" not in str(info.value)


def test_a_scan_uses_each_hosts_login(zoo: Any, tmp_path: Path) -> None:
    """The zoo login for one recorder only: its cameras are read, another recorder's not."""
    from camaudit.cliutil import run_async
    from camaudit.pipeline import ScanOptions, execute, new_scan
    from camaudit.store import Store
    from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER

    one, other = (zoo.by_persona(p)[0] for p in ("hikvision-nvr", "lorex-nvr"))
    path = _file(tmp_path, f"devices:\n  {one['address']}: {{user: {ZOO_USER}, "
                           "password_env: ZOO_PW}\n")
    store = Store(str(tmp_path / "scan.db"))
    options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0)
    scan_id, scope = new_scan(store, [one["address"], other["address"]], [], options)
    run_async(execute(store, scan_id, scope, options,
                      logins=load(path, env={"ZOO_PW": ZOO_PASSWORD})))
    parents = {d.get("parent") for d in store.document(scan_id)["devices"]}
    store.close()
    assert one["address"] in parents and other["address"] not in parents
    assert ZOO_PASSWORD.encode() not in (tmp_path / "scan.db").read_bytes()
