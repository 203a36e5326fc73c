"""The evidence bundle: everything an auditor needs to check a scan, signed.

A bundle is a zip file::

    README.txt                how to check this bundle by hand
    report.json               the camaudit/1 document
    observations/index.json   every observation: who said it, when, over what, parsed fields
    observations/<sha256>.bin the raw bytes of each observation, named by their SHA-256
    manifest.json             SHA-256 of every file above, tool version, knowledge dates
    manifest.sig              Ed25519 signature of manifest.json (64 raw bytes)
    signer.pub                the signer's public key (PEM), for convenience

Checking it (:func:`verify_bundle`) re-hashes every file, looks for files
missing from or added to the manifest, and checks the signature. A bundle
verified with the key it carries proves only that nothing changed since it was
signed by *someone*; to prove who signed it, verify with a public key obtained
from the signer by another channel (``verify --pubkey``).
The zip is read as untrusted input: members are hashed as streams (only the
manifest, signature and key are held, each bounded), nothing is extracted, and
a damaged member is reported by name.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from camaudit import __version__
from camaudit.errors import CamauditError, UsageError
from camaudit.model import Observation
from camaudit.report.document import Doc, scan_info
from camaudit.report.signing import fingerprint, parse_public_key, public_pem, signature_valid

FORMAT = "camaudit-evidence/1"
MANIFEST, SIGNATURE, CARRIED_KEY = "manifest.json", "manifest.sig", "signer.pub"
REPORT, INDEX, README = "report.json", "observations/index.json", "README.txt"
MAX_SMALL = 64 * 1024 * 1024  # bytes kept in memory of manifest, signature, key; others stream
_CHUNK = 1024 * 1024
_UNSIGNED = {MANIFEST, SIGNATURE, CARRIED_KEY}

README_TEXT = """\
camaudit evidence bundle ({format})

manifest.json lists the SHA-256 of every other file; manifest.sig is the
Ed25519 signature of manifest.json. To check by hand:

  sha256sum report.json observations/*          # compare with manifest.json "files"
  openssl pkeyutl -verify -pubin -inkey SIGNER.pub -rawin \\
          -in manifest.json -sigfile manifest.sig

Or: camaudit verify THIS.zip --pubkey SIGNER.pub

Use the signer's public key obtained from the signer, not only signer.pub from
this bundle: a key carried inside the bundle proves the files were not altered
after signing, but not who signed them.
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _index_entry(obs: Observation, raw_name: str | None) -> dict[str, Any]:
    return {
        "sha256": obs.sha256,
        "address": obs.address,
        "port": obs.port,
        "probe": obs.probe,
        "source": obs.source,
        "time": obs.time.isoformat(),
        "raw": raw_name,
        "raw_kept": len(obs.raw),
        "raw_size": obs.raw_size,  # bytes received; more than raw_kept when capped
        "fields": obs.fields,
    }


@dataclass
class BundleInfo:
    """What went into a bundle, for the command to report."""

    path: Path
    files: int
    observations: int
    fingerprint: str
    unmatched_evidence: list[str] = field(default_factory=list)  # cited but not in the store


def _cited(doc: Doc) -> set[str]:
    cited = set()
    for device in doc.get("devices") or []:
        for item in device.get("evidence") or []:
            ref = str(item.get("observation", ""))
            cited.add(ref.removeprefix("sha256:"))
    return cited


def build_bundle(
    doc: Doc,
    observations: Iterable[Observation],
    key: Ed25519PrivateKey,
    out: Path,
    *,
    created: datetime | None = None,
) -> BundleInfo:
    """Write a signed bundle to `out` (atomically: a half-written bundle never appears)."""
    files: dict[str, bytes] = {
        README: README_TEXT.format(format=FORMAT).encode(),
        REPORT: (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode(),
    }
    index = []
    for obs in observations:
        raw_name = f"observations/{obs.sha256}.bin" if obs.raw else None
        if raw_name:
            files[raw_name] = obs.raw  # content-addressed: identical bytes are stored once
        index.append(_index_entry(obs, raw_name))
    files[INDEX] = (json.dumps(index, indent=1, ensure_ascii=False, default=str) + "\n").encode()
    scan = scan_info(doc)
    public = key.public_key()
    manifest = {
        "format": FORMAT,
        "created": (created or datetime.now(UTC)).isoformat(),
        "tool_version": __version__,
        "scan": {k: scan.get(k) for k in
                 ("id", "started", "finished", "targets", "tool_version", "policies")},
        "knowledge": scan.get("knowledge") or {},
        "signer": {"algorithm": "Ed25519", "public_key_sha256": fingerprint(public)},
        "files": {name: _sha(data) for name, data in sorted(files.items())},
    }
    if doc.get("documents"):  # docs scan: the hash of each document read, signed with the rest
        manifest["documents"] = [{"path": d.get("path"), "sha256": d.get("sha256")}
                                 for d in doc["documents"]]
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    files[MANIFEST] = manifest_bytes
    files[SIGNATURE] = key.sign(manifest_bytes)
    files[CARRIED_KEY] = public_pem(public)
    out = out.resolve()
    try:
        fd, tmp = tempfile.mkstemp(prefix=".camaudit-bundle-", suffix=".zip", dir=out.parent)
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w",
                                                           zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                                 compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the bundle: {exc.strerror or exc}") from exc
    have = {entry["sha256"] for entry in index}
    return BundleInfo(out, len(files), len(index), fingerprint(public),
                      sorted(_cited(doc) - have - {""}))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle, naming the file it concerns."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class VerifyResult:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # files whose hash matched
    manifest: dict[str, Any] | None = None
    signer: str | None = None  # fingerprint of the key the signature verified with

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Members:
    """What verify read from the zip: a SHA-256 per member, and the bytes of the small ones."""

    digests: dict[str, str] = field(default_factory=dict)
    small: dict[str, bytes] = field(default_factory=dict)


def _read_members(archive: zipfile.ZipFile, result: VerifyResult) -> _Members:
    """Hash every member as a stream (memory stays flat whatever the zip claims); keep the
    manifest, signature and key. Damaged or repeated members are problems, by name."""
    found = _Members()
    for info in archive.infolist():
        name = info.filename
        if name in found.digests:
            result.problems.append(Problem(name, "appears twice in the zip (added after signing)"))
            continue
        digest, kept = hashlib.sha256(), bytearray()
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    digest.update(chunk)
                    if name in _UNSIGNED and len(kept) <= MAX_SMALL:
                        kept += chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            result.problems.append(Problem(name, f"cannot be read, damaged or altered ({exc})"))
            continue
        found.digests[name] = digest.hexdigest()
        if name in _UNSIGNED:
            if len(kept) > MAX_SMALL:
                result.problems.append(Problem(name, f"larger than {MAX_SMALL} bytes: altered"))
                continue
            found.small[name] = bytes(kept)
    return found


def _verify_signature(contents: dict[str, bytes], key: Ed25519PublicKey | None,
                      result: VerifyResult) -> None:
    manifest = result.manifest or {}
    recorded = str((manifest.get("signer") or {}).get("public_key_sha256", ""))
    carried: Ed25519PublicKey | None = None
    if CARRIED_KEY in contents:
        try:
            carried = parse_public_key(contents[CARRIED_KEY], CARRIED_KEY)
        except CamauditError:
            result.problems.append(Problem(CARRIED_KEY, "not a readable Ed25519 public key "
                                                        "(altered)"))
    if carried is not None and recorded and fingerprint(carried) != recorded:
        result.problems.append(Problem(CARRIED_KEY, "does not match the signer recorded in "
                                                    "manifest.json (altered or replaced)"))
    if key is None:
        key = carried
        result.notes.append("signature checked with the public key carried in the bundle: this "
                            "proves the files were not altered since signing, not who signed "
                            "them; pass --pubkey with the signer's key to prove origin")
    elif carried is not None and fingerprint(carried) != fingerprint(key):
        result.notes.append("the bundle carries a different public key than the one given")
    if key is None:
        result.problems.append(Problem(CARRIED_KEY, "no public key to check the signature with"))
        return
    signature = contents.get(SIGNATURE)
    if signature is None:
        result.problems.append(Problem(SIGNATURE, "missing: the bundle is not signed"))
    elif MANIFEST in contents and signature_valid(key, signature, contents[MANIFEST]):
        result.signer = fingerprint(key)
    elif MANIFEST in contents:
        result.problems.append(Problem(
            f"{MANIFEST} or {SIGNATURE}",
            "the signature does not verify: one of them was altered, or the bundle was "
            f"signed with another key (checked with key {fingerprint(key)[:16]}…)"))


def verify_bundle(path: Path, key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Check every hash and the signature of a bundle; each problem names its file."""
    result = VerifyResult()
    try:
        with zipfile.ZipFile(path) as archive:
            members = _read_members(archive, result)
    except (OSError, zipfile.BadZipFile, zlib.error) as exc:
        raise UsageError(f"{path}: not a readable evidence bundle (zip): {exc}") from exc
    contents = members.small
    if MANIFEST not in contents:
        if not any(p.path == MANIFEST for p in result.problems):
            result.problems.append(Problem(MANIFEST, "missing: nothing to check against"))
        return result
    try:
        manifest = json.loads(contents[MANIFEST])
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("no 'files' table")
    except ValueError as exc:
        result.problems.append(Problem(MANIFEST, f"not a camaudit manifest, altered ({exc})"))
        return result
    result.manifest = manifest
    _verify_signature(contents, key, result)
    unreadable = {p.path for p in result.problems}
    for name, expected in sorted(manifest["files"].items()):
        if name in unreadable:
            continue
        if name not in members.digests:
            result.problems.append(Problem(name, "listed in the manifest but missing"))
        elif members.digests[name] != expected:
            result.problems.append(Problem(name, "SHA-256 differs from the manifest: altered"))
        else:
            result.checked.append(name)
    for name in sorted(members.digests.keys() - manifest["files"].keys() - _UNSIGNED):
        result.problems.append(Problem(name, "not listed in the manifest: added after signing"))
    return result
