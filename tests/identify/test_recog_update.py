"""`camaudit update --recog DIR` on real checkouts built from the vendored copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from camaudit.errors import UsageError
from camaudit.identify import recog
from camaudit.identify.recog_rules import recog_rules, source_line
from camaudit.identify.recog_update import update_recog

NEW_FINGERPRINT = """  <fingerprint pattern="^Example Camera RTSP/(\\d+)$">
    <description>An added fingerprint (test)</description>
    <example hw.version="7">Example Camera RTSP/7</example>
    <param pos="0" name="hw.vendor" value="Axis"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="1" name="hw.version"/>
  </fingerprint>
</fingerprints>"""


def _checkout(tmp_path: Path, name: str = "recog") -> Path:
    """A copy of the vendored recog laid out as a checkout, committed when git exists."""
    root = tmp_path / name
    shutil.copytree(recog.VENDORED, root)
    (root / "SOURCE").unlink()  # a checkout of rapid7/recog has none
    if shutil.which("git"):
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "snapshot"]):
            subprocess.run(["git", "-C", str(root), *args], check=True, env=env)
    return root


def _cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "camaudit", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CAMAUDIT_DATA": str(data)})


def test_update_takes_a_checkout_whose_examples_pass(tmp_path: Path,
                                                      isolated_knowledge: Path) -> None:
    checkout = _checkout(tmp_path)
    rtsp = checkout / "xml" / "rtsp_servers.xml"
    rtsp.write_text(rtsp.read_text("utf-8").replace("</fingerprints>", NEW_FINGERPRINT), "utf-8")
    done = _cli("update", "--recog", str(checkout), data=isolated_knowledge)
    assert done.returncode == 0, done.stderr
    assert "every example passed" in done.stdout
    dest = isolated_knowledge / "recog"
    assert recog.recog_dir() == dest
    assert (dest / "COPYING").is_file() and (dest / "identifiers" / "vendor.txt").is_file()
    if shutil.which("git"):
        assert source_line(dest) != "rapid7/recog@unknown"
    rules = {r.note: r for r in recog_rules(dest)}
    added = rules["An added fingerprint (test)"]
    assert added.says == {"device_type": "camera", "manufacturer": "Axis"}


def test_a_failing_example_is_refused_and_the_copy_in_use_stays(
        tmp_path: Path, isolated_knowledge: Path) -> None:
    good = _checkout(tmp_path, "good")
    update_recog(good)
    bad = _checkout(tmp_path, "bad")
    servers = bad / "xml" / "http_servers.xml"
    text = servers.read_text("utf-8")
    servers.write_text(text.replace("<example>Hikvision-Webs</example>",
                                    "<example>Hikvision-Webz</example>", 1), "utf-8")
    done = _cli("update", "--recog", str(bad), data=isolated_knowledge)
    assert done.returncode == 2
    assert "refused: 1 recog example(s) fail" in done.stderr
    assert "Hikvision-Webz" in done.stderr
    assert "from: " + str(good.resolve()) in (isolated_knowledge / "recog" / "SOURCE").read_text()


def test_not_a_checkout_is_one_clear_error(tmp_path: Path, isolated_knowledge: Path) -> None:
    with pytest.raises(UsageError, match="not a recog checkout"):
        update_recog(tmp_path)
    broken = _checkout(tmp_path)
    (broken / "xml" / "ftp_banners.xml").write_text("<fingerprints><oops", "utf-8")
    with pytest.raises(UsageError, match=r"ftp_banners\.xml:1: not valid XML"):
        update_recog(broken)


def test_without_an_update_the_vendored_copy_is_used(isolated_knowledge: Path) -> None:
    assert recog.recog_dir() == recog.VENDORED
    assert source_line(recog.VENDORED) == "rapid7/recog@14fa1a7211e7"
