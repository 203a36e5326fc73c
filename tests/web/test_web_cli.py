"""`camaudit serve` as an operator runs it: a child process on 127.0.0.1 that makes the
first admin of an empty store, prints its password once, and answers with it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_makes_a_first_admin_and_prints_its_password_once(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CAMAUDIT_CONSOLE_SECRETS": str(tmp_path / "secrets")}
    cmd = [sys.executable, "-m", "camaudit", "serve", "--db", str(tmp_path / "c.db"),
           "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert "made the account 'admin'" in lines[0]
        password = lines[1].strip()
        assert len(password) >= 16 and f"http://127.0.0.1:{port}/" in lines[2]
        deadline = time.monotonic() + 20
        while True:
            try:
                login = httpx.post(f"http://127.0.0.1:{port}/login",
                                   data={"name": "admin", "password": password})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert login.status_code == 303 and "camaudit_session" in login.headers["set-cookie"]
        wrong_host = httpx.get(f"http://127.0.0.1:{port}/login",
                               headers={"Host": "rebound.example"})
        assert wrong_host.status_code == 400  # DNS rebinding: only our own host names
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert password not in out + err  # printed once (above), never again
    again = subprocess.run([*cmd[:-2], "--port", "1", "--host", "not-an-address"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 2 and "--host must be an IP address" in again.stderr
