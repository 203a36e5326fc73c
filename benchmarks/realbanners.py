"""Real banners: camaudit and nmap on the held-out samples, replayed on loopback, scored per field.

    .venv/bin/python benchmarks/realbanners.py        # prints the markdown table
    (benchmarks/run.py runs it too; its summary line gains real_class= and real_maker=)

Every sample of tests/identify/heldout/*.yaml (real replies of real devices, from
public material that no rule was written from) is served on its own address in
127.203.0.0/16 by benchmarks/replay.py, as the device answered. Then, against those
addresses and the union of the samples' ports, and nothing else:

- ``camaudit scan`` (the CLI, ``--json``), as a user runs it;
- ``nmap -sV -n -Pn`` and, separately, ``nmap -sV -sC -n -Pn``, read with
  benchmarks/nmap_fair.py (see there how nmap's words become class, maker, model,
  firmware; its zoo-artefact filter is off here: these replies are real).

Each answer is compared with the sample's ``expect``, field by field:

- class: ``surveillance`` (camera, recorder, encoder, vms, surveillance) or ``other``;
- role: camera/recorder/encoder/vms, scored only where the source states one;
- manufacturer, model, firmware (model and firmware compared without case).

An answer is right, wrong (a value that contradicts the source; for ``manufacturer:
null`` any maker) or missed (no answer). Samples with nothing a TCP client can ask for
(MAC-only, UDP-only, vendor APIs known only by parsed fields) are counted apart and
listed, as are the parts of a sample that were not replayed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402
import nmap_fair  # noqa: E402
import replay  # noqa: E402
import results  # noqa: E402

SURVEILLANCE = {"camera", "recorder", "encoder", "vms", "surveillance"}
ROLES = {"camera", "recorder", "encoder", "vms"}
FIELDS = ("class", "role", "manufacturer", "model", "firmware")
#: The manufacturer split by what the source says: a maker, or null (no maker may be named).
SPLIT = ("maker named", "maker null")
TOOLS = ("camaudit scan", "nmap -sV", "nmap -sV -sC")


def log(text: str) -> None:
    print(f"realbanners: {text}", file=sys.stderr, flush=True)


def _class(device_type: Any) -> str | None:
    if device_type in SURVEILLANCE:
        return "surveillance"
    return "other" if device_type == "other" else None


def wanted(expect: dict[str, Any]) -> dict[str, Any]:
    """The scored fields of a sample's ``expect`` (class and role derive from device_type)."""
    out: dict[str, Any] = {}
    if "device_type" in expect:
        out["class"] = _class(expect["device_type"])
        if expect["device_type"] in ROLES:
            out["role"] = expect["device_type"]
    for name in ("manufacturer", "model", "firmware"):
        if name in expect:
            out[name] = expect[name]
    return out


def judge(name: str, want: Any, got: Any) -> str:
    """right | wrong | missed for one field."""
    if name in ("model", "firmware") and isinstance(want, str) and isinstance(got, str):
        want, got = want.strip().casefold(), got.strip().casefold()
    if got == want:
        return "right"
    if name == "role" and got == "surveillance":
        return "missed"  # surveillance gear, role not settled: not a contradiction
    return "missed" if got is None else "wrong"


def answers(device: dict[str, Any] | None) -> dict[str, Any]:
    device = device or {}
    return {"class": _class(device.get("device_type")), "role": device.get("device_type"),
            "manufacturer": device.get("manufacturer"), "model": device.get("model"),
            "firmware": device.get("firmware")}


@dataclass
class Score:
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {f: Counter() for f in (*FIELDS, *SPLIT)})
    wrong: list[str] = field(default_factory=list)

    def add(self, sample_id: str, want: dict[str, Any], got: dict[str, Any]) -> None:
        for name, value in want.items():
            verdict = judge(name, value, got.get(name))
            self.counts[name][verdict] += 1
            if name == "manufacturer":
                self.counts[SPLIT[value is None]][verdict] += 1
            if verdict == "wrong":
                self.wrong.append(f"{sample_id}: {name}={got.get(name)!r}, source says {value!r}")

    def figure(self, name: str) -> tuple[int, int]:
        c = self.counts[name]
        return c["right"], c["right"] + c["wrong"] + c["missed"]


# -- the tools ---------------------------------------------------------------------
def run_camaudit(work: Path, targets: list[str], ports: list[int],
                 timeout: float) -> dict[str, dict[str, Any]]:
    out, db, target_file = work / "camaudit.json", work / "camaudit.db", work / "targets.txt"
    target_file.write_text("\n".join(targets) + "\n")
    cmd = [sys.executable, "-m", "camaudit", "-q", "scan", f"@{target_file}",
           "--ports", ",".join(map(str, ports)), "--db", str(db), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "CI": "1"}, check=False)
    if proc.returncode not in (0, 3) or not out.exists():
        raise RuntimeError(f"camaudit scan exited {proc.returncode}: {proc.stderr[-800:]}")
    doc = json.loads(out.read_text())
    return {d["address"]: d for d in doc.get("devices", [])}


def run_nmap(work: Path, name: str, targets: list[str], ports: list[int], scripts: bool,
             timeout: float) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """nmap's devices (camaudit/1 shape) and, per address, its product lines for the table."""
    xml = work / f"{name}.xml"
    cmd = ["nmap", "-sV", *(["-sC"] if scripts else []), "-n", "-Pn", "-T4", "--open",
           "-p", ",".join(map(str, ports)), "-oX", str(xml), *targets]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not xml.exists():
        raise RuntimeError(f"nmap exited {proc.returncode}: {proc.stderr[-800:]}")
    hosts = nmap_fair.parse(str(xml))
    devices = {a: nmap_fair.device(a, s, artefacts=frozenset()) for a, s in hosts.items() if s}
    lines = {a: [" ".join(x for x in (s["product"], s["version"], s["extrainfo"]) if x)
                 for s in svcs if s["product"]] for a, svcs in hosts.items()}
    return devices, lines


# -- report ------------------------------------------------------------------------
@dataclass
class Results:
    replays: list[replay.Replay]
    scores: dict[str, Score]
    devices: dict[str, dict[str, dict[str, Any]]]
    nmap_lines: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, tuple[int, int]]:
        cam = self.scores["camaudit scan"]
        return {"real_class": cam.figure("class"), "real_maker": cam.figure("manufacturer")}


def _cell(value: Any) -> str:
    return "–" if value is None else str(value).replace("|", "\\|")


def markdown(res: Results, heading: str = "### Real banners", per_sample: bool = False) -> str:
    """The per-field table (and, on request, a line per sample: never in RESULTS.md, so that
    nobody writes a rule from what the held-out set shows camaudit misses)."""
    replayed = [r for r in res.replays if r.replayable]
    apart = [r for r in res.replays if not r.replayable]
    files = Counter(r.sample["file"] for r in replayed)
    lines = [f"{heading}: {len(replayed)} held-out samples replayed on {replay.NET} "
             f"({', '.join(f'{n} {f}' for f, n in sorted(files.items()))}); "
             f"{len(apart)} not replayable", "",
             "| tool | " + " | ".join(f"{f} right/wrong/missed" for f in (*FIELDS, *SPLIT))
             + " |", "|---" * (len(FIELDS) + len(SPLIT) + 1) + "|"]
    for tool in TOOLS:
        s = res.scores[tool]
        lines.append(f"| {tool} | " + " | ".join(
            f"{s.counts[f]['right']}/{s.counts[f]['wrong']}/{s.counts[f]['missed']}"
            for f in (*FIELDS, *SPLIT)) + " |")
    lines += ["", "right/wrong/missed: a missed field is an answer left empty; \"maker null\" "
              "samples are right when no maker is named."]
    if per_sample:
        lines += ["", "Per sample (class and maker; nmap = `nmap -sV`):", "",
                  "| sample | address | expected class / maker | camaudit | nmap -sV | "
                  "nmap product lines | not replayed |", "|---|---|---|---|---|---|---|"]
    for r in replayed if per_sample else []:
        want = wanted(r.sample.get("expect") or {})
        cam = answers(res.devices["camaudit scan"].get(r.address))
        nm = answers(res.devices["nmap -sV"].get(r.address))
        lines.append(
            f"| {r.sample['id']} | {r.address} | {_cell(want.get('class'))} / "
            f"{_cell(want.get('manufacturer', '(not scored)'))} | {_cell(cam['class'])} / "
            f"{_cell(cam['manufacturer'])} | {_cell(nm['class'])} / {_cell(nm['manufacturer'])}"
            f" | {_cell('; '.join(res.nmap_lines.get(r.address, [])) or None)} | "
            f"{_cell('; '.join(r.skipped) or None)} |")
    for tool in TOOLS:
        if res.scores[tool].wrong:
            lines += ["", f"Wrong answers of {tool} ({len(res.scores[tool].wrong)}):", ""]
            lines += [f"- {w}" for w in res.scores[tool].wrong]
    if apart:
        lines += ["", f"Not replayable ({len(apart)}): "
                  + ", ".join(f"{r.sample['id']} ({'; '.join(r.skipped)})" for r in apart)]
    for note in res.notes:
        lines += ["", f"Note: {note}"]
    f = res.figures()
    lines += ["", f"camaudit on the replayed held-out set: class {f['real_class'][0]}/"
              f"{f['real_class'][1]}, maker {f['real_maker'][0]}/{f['real_maker'][1]}.", ""]
    return "\n".join(lines)


def run(work: Path | None = None, timeout: float = 900.0) -> Results:
    """Replay, scan with both tools, score. Needs nmap on PATH."""
    replays = replay.plan(replay.load_samples())
    with tempfile.TemporaryDirectory(prefix="camaudit-real-") as tmp, \
            replay.ReplayServer(replays) as server:
        folder = work or Path(tmp)
        targets, ports = server.addresses, server.ports
        log(f"{len(targets)} samples on {replay.NET}, ports {ports}")
        devices: dict[str, dict[str, dict[str, Any]]] = {}
        devices["camaudit scan"] = run_camaudit(folder, targets, ports, timeout)
        log("camaudit done")
        devices["nmap -sV"], lines = run_nmap(folder, "nmap-sv", targets, ports, False, timeout)
        log("nmap -sV done")
        devices["nmap -sV -sC"], _ = run_nmap(folder, "nmap-sc", targets, ports, True, timeout)
        log("nmap -sV -sC done")
    scores = {tool: Score() for tool in TOOLS}
    for r in replays:
        if not r.replayable:
            continue
        want = wanted(r.sample.get("expect") or {})
        for tool in TOOLS:
            scores[tool].add(r.sample["id"], want, answers(devices[tool].get(r.address)))
    return Results(replays, scores, devices, lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", help="markdown file to append the table to")
    parser.add_argument("--per-sample", action="store_true",
                        help="also print a line per sample (held-out data: not for rule authors)")
    args = parser.parse_args()
    machine.ensure_nmap()
    res = run()
    text = markdown(res)
    if args.results:
        results.append(text, args.results)
    print(markdown(res, per_sample=True) if args.per_sample else text)
    f = res.figures()
    print(f"real_class={f['real_class'][0]}/{f['real_class'][1]} "
          f"real_maker={f['real_maker'][0]}/{f['real_maker'][1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
