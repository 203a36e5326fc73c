"""The sites file: what it accepts, the one-line errors it gives, and the per-site gate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from camaudit.cli import main
from camaudit.credentials import load as load_logins
from camaudit.dist import sites
from camaudit.errors import ConfigError, UsageError
from camaudit.scope import Scope

GOOD = """\
sites:
  north:
    scopes: [127.70.0.0/26]
    exclude: [127.70.0.1]
    ports: 80,554,8000-8001
    options: {rate: 200, connect_timeout: 0.5}
    schedule: "30 2 * * 1-5"
    policies: [us-federal]
    credentials: north-login
    shard_size: 8
  south:
    scopes: ["127.70.0.64-127.70.0.127"]
    schedule: every 6h
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sites_file_gives_each_site_its_scope_options_and_queue(tmp_path: Path) -> None:
    loaded = sites.load(_write(tmp_path, GOOD))
    north, south = loaded["north"], loaded["south"]
    assert north.queue == "site.north"
    assert north.scope().size == 63 and not north.scope().allows("127.70.0.1")
    options = north.scan_options()
    assert (options.ports, options.rate, options.connect_timeout, options.site,
            options.policies) == ([80, 554, 8000, 8001], 200.0, 0.5, "north", ["us-federal"])
    assert south.scan_options().policies == ["all"] and south.shard_size == 4096
    assert sites.parse_schedule(str(south.schedule)) == dt.timedelta(hours=6)
    assert sites.parse_schedule(str(north.schedule)) == {
        "minute": "30", "hour": "2", "day_of_month": "*", "month_of_year": "*",
        "day_of_week": "1-5"}
    with pytest.raises(UsageError, match=r"no site 'east'.*sites: north, south"):
        loaded["east"]


@pytest.mark.parametrize(("text", "message"), [
    ("sites: {a: {exclude: [127.70.0.1]}}", r":1: site a: missing required key 'scopes'"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    colour: red\n",
     r":4: site a: colour: unknown key"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    schedule: '99 * * * *'\n",
     r":4: site a: schedule: '99 \* \* \* \*': .*99 > 59"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    schedule: hourly\n",
     r":4: site a: schedule: 'hourly': give a cron line"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    options:\n      rate: -1\n",
     r":5: site a: options.rate: Input should be greater than or equal to 0"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    ports: 80,x\n",
     r":4: site a: ports: bad port"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    ports: [80, 70000]\n",
     r":4: site a: ports: ports are 1-65535"),
    ("sites:\n  a:\n    scopes: [camera.example]\n", r":3: site a: .*not host names"),
    ("sites:\n  a:\n    scopes: ['@targets.txt']\n", r":3: site a: scopes: .*no @file"),
    ("sites:\n  a:\n    scopes: [127.70.0.7/24]\n", r":3: site a: 127.70.0.7/24 has host bits"),
    ("sites:\n  a:\n    scopes: [127.70.0.7]\n    exclude: [127.70.0.0/24]\n",
     r":3: site a: its scopes hold no address"),
    ("sites:\n  a:\n    scopes: [127.70.0.0/24]\n    policies: [no-such-policy]\n",
     r":4: site a: no-such-policy: not a built-in policy"),
    ("sites:\n  'a b':\n    scopes: [127.70.0.0/24]\n", r"site a b: name: a site name is"),
    ("sites:\n  a:\n    name: b\n    scopes: [127.70.0.0/24]\n", r":3: site a: the key above"),
    ("sites: {}\n", r":1: no site in the file"),
    ("hosts: []\n", r":1: expected one key, 'sites'"),
    ("sites: [\n", r":2: "),
])
def test_every_mistake_is_one_line_with_file_and_line(tmp_path: Path, text: str,
                                                       message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        sites.load(path)
    assert str(caught.value).startswith(f"{path}:") and "\n" not in str(caught.value)


def test_the_site_gate_names_what_lies_outside_the_site(tmp_path: Path) -> None:
    north = sites.load(_write(tmp_path, GOOD))["north"]
    assert north.outside(Scope(["127.70.0.0/26"], ["127.70.0.1"])) == []
    assert north.outside(Scope(["127.70.0.2-127.70.0.63"])) == []
    assert north.outside(Scope(["127.70.0.60-127.70.0.70"])) == [
        "127.70.0.64/30", "127.70.0.68/31", "127.70.0.70/32"]
    assert north.outside(Scope(["127.70.0.0-3"])) == [
        "127.70.0.1/32"]  # the site's own exclusion is outside it too
    assert north.outside(Scope(["127.70.0.0/25", "::1"]))[-2:] == ["127.70.0.64/26", "::1/128"]


def test_a_site_names_its_login_and_the_file_on_the_worker_holds_it(tmp_path: Path) -> None:
    north = sites.load(_write(tmp_path, GOOD))["north"]
    logins = tmp_path / "logins.yaml"
    logins.write_text("default: {user: admin, password: nope}\n"
                      "sites:\n  north-login: {user: audit, password: s3cret}\n"
                      "devices:\n  127.70.0.9: {user: cam9, password: nine}\n")
    logins.chmod(0o600)
    book = north.logins(load_logins(logins))
    assert book is not None
    assert book.for_host("127.70.0.7", "north").user == "audit"  # type: ignore[union-attr]
    assert book.for_host("127.70.0.9", "north").user == "cam9"  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="site north uses the login 'north-login'"):
        north.logins(None)
    assert "s3cret" not in (tmp_path / "sites.yaml").read_text()


def _fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the CLI in this process; it must exit 2 with one line on stderr, returned."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    printed = capsys.readouterr().err
    assert exited.value.code == 2, printed
    assert printed.startswith("camaudit: error: ") and printed.count("\n") == 1, printed
    return printed


@pytest.mark.parametrize(("args", "message"), [
    (["audit", "east"], "no site 'east' in"),
    (["audit", "north", "--broker", "redis://127.0.0.1:1/0"], "cannot reach the broker "
     "redis://127.0.0.1:1/0"),
    (["worker", "--site", "north", "--broker", "redis://127.0.0.1:1/0"],
     "site north uses the login 'north-login'"),
])
def test_the_cli_says_what_is_wrong_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               args: list[str], message: str) -> None:
    path = _write(tmp_path, GOOD)
    db = tmp_path / "a.db"
    assert message in _fails(capsys, *args, "--sites", str(path), "--db", str(db))
    assert not db.exists(), "nothing is written before the broker is reached"


def test_a_bad_sites_file_stops_the_cli_with_its_line(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "sites:\n  a:\n    scopes: [127.70.0.0/24]\n    shard_size: 0\n")
    assert _fails(capsys, "audit", "a", "--sites", str(path), "--db", str(tmp_path / "a.db")) == (
        f"camaudit: error: {path}:4: site a: shard_size: Input should be greater than or equal "
        "to 1\n")
