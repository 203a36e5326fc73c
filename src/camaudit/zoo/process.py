"""Run a zoo in a child process (``python -m camaudit.zoo``) for tests, demo and benchmarks.

    with run_in_subprocess(count=200, seed=7) as zoo:
        zoo.manifest["devices"][0]["address"]

The context manager waits for the child's ``ready N`` line (bounded), and on
exit sends SIGTERM and waits for a clean stop (then SIGKILL as a last resort).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camaudit.errors import ResourceError
from camaudit.zoo.estate import DEFAULT_BASE


@dataclass
class ZooProcess:
    """A running zoo child: its manifest (parsed), base, devices and stats file."""

    proc: subprocess.Popen[bytes]
    manifest_path: Path
    stats_path: Path
    base: str
    manifest: dict[str, Any] = field(default_factory=dict)
    startup_seconds: float = 0.0

    @property
    def devices(self) -> list[dict[str, Any]]:
        """The devices the zoo serves (cameras behind a recorder are in `connected`)."""
        return [d for d in self.manifest.get("devices", []) if not d.get("parent")]

    @property
    def connected(self) -> list[dict[str, Any]]:
        """The cameras the zoo's recorders report (never served, seen only with a login)."""
        return [d for d in self.manifest.get("devices", []) if d.get("parent")]

    def by_persona(self, persona: str) -> list[dict[str, Any]]:
        return [d for d in self.devices if d["persona"] == persona]

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """Ask the child to write its connection counts now (SIGUSR1) and read them."""
        before = self.stats_path.stat().st_mtime_ns if self.stats_path.exists() else 0
        os.kill(self.proc.pid, signal.SIGUSR1)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.stats_path.exists() and self.stats_path.stat().st_mtime_ns != before:
                with contextlib.suppress(ValueError):
                    data: dict[str, Any] = json.loads(self.stats_path.read_text())
                    return data
            time.sleep(0.02)
        raise ResourceError("the zoo did not write its stats in time")

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode


def _wait_ready(proc: subprocess.Popen[bytes], timeout: float) -> None:
    assert proc.stdout is not None
    end = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            if b"ready " in buf and buf.endswith(b"\n"):
                return
        elif proc.poll() is not None:
            break
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.kill()
    proc.wait()
    raise ResourceError(f"the zoo did not become ready within {timeout:.0f}s: {err.strip()}")


@contextlib.contextmanager
def run_in_subprocess(count: int, seed: int = 1, base: str = DEFAULT_BASE,
                      manifest_path: str | os.PathLike[str] | None = None,
                      hostile: bool = True, only: Sequence[str] | None = None,
                      lifetime: float = 60.0, timeout: float = 120.0) -> Iterator[ZooProcess]:
    """Start a zoo child, yield it once ready, stop it cleanly on exit."""
    workdir = tempfile.TemporaryDirectory(prefix="camaudit-zoo-")
    manifest = Path(manifest_path) if manifest_path else Path(workdir.name) / "manifest.json"
    stats = Path(workdir.name) / "stats.json"
    cmd = [sys.executable, "-m", "camaudit.zoo", "--count", str(count), "--seed", str(seed),
           "--base", base, "--manifest", str(manifest), "--stats", str(stats),
           "--lifetime", str(lifetime)]
    if not hostile:
        cmd.append("--no-hostile")
    if only:
        cmd += ["--only", ",".join(only)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        _wait_ready(proc, timeout)
        zoo = ZooProcess(proc, manifest, stats, base, json.loads(manifest.read_text()),
                         time.monotonic() - started)
        yield zoo
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        workdir.cleanup()
