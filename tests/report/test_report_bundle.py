"""Evidence bundles: verify passes on the original; any altered byte is named; keys are private."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from camaudit.errors import ConfigError, UsageError
from camaudit.report.bundle import MANIFEST, SIGNATURE, build_bundle, verify_bundle
from camaudit.report.signing import (
    generate_key,
    load_private_key,
    load_public_key,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_key(tmp_path_factory.mktemp("keys") / "auditor.key")


@pytest.fixture
def bundle(tmp_path: Path, keys: tuple[Path, Path], samples: Any) -> Path:
    out = tmp_path / "evidence.zip"
    info = build_bundle(samples.document(), samples.observations(), load_private_key(keys[0]),
                        out)
    assert info.path == out and info.observations == 6
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def test_contents_and_manifest(bundle: Path, samples: Any) -> None:
    files = members(bundle)
    manifest = json.loads(files[MANIFEST])
    obs = samples.observations()
    # Raw bytes are content-addressed: the two identical RTSP replies are stored once.
    raws = {f"observations/{o.sha256}.bin" for o in obs if o.raw}
    assert raws <= files.keys() and len(raws) == 4
    assert files[f"observations/{obs[0].sha256}.bin"] == obs[0].raw
    index = json.loads(files["observations/index.json"])
    assert [e["sha256"] for e in index] == [o.sha256 for o in obs]
    assert index[5]["raw"] is None and index[5]["source"] == "claim"
    assert set(manifest["files"]) == files.keys() - {MANIFEST, SIGNATURE, "signer.pub"}
    assert manifest["knowledge"] == {"kev": "2026-11-23", "restrictions": "2026-11-23"}
    assert manifest["scan"]["id"] == 7 and manifest["tool_version"]
    assert json.loads(files["report.json"]) == samples.document()
    for name, digest in manifest["files"].items():
        assert samples.sha(files[name]) == digest


def test_verify_original_with_carried_and_given_key(bundle: Path,
                                                    keys: tuple[Path, Path]) -> None:
    carried = verify_bundle(bundle)
    assert carried.ok, carried.problems
    assert any("not who signed" in n for n in carried.notes)
    given = verify_bundle(bundle, load_public_key(keys[1]))
    assert given.ok and not given.notes
    assert len(given.checked) == len(json.loads(members(bundle)[MANIFEST])["files"])


@pytest.mark.parametrize("target", [
    "report.json", "observations/index.json", "README.txt", "raw", MANIFEST, SIGNATURE,
    "signer.pub",
])
@pytest.mark.parametrize("offset", [0.1, 0.5, 0.9])
def test_flipping_a_byte_of_any_file_is_named(bundle: Path, keys: tuple[Path, Path],
                                              samples: Any, target: str, offset: float) -> None:
    files = members(bundle)
    name = f"observations/{samples.observations()[0].sha256}.bin" if target == "raw" else target
    data = bytearray(files[name])
    data[int(len(data) * offset)] ^= 0x01
    files[name] = bytes(data)
    rewrite(bundle, files)
    for key in (None, load_public_key(keys[1])):
        result = verify_bundle(bundle, key)
        assert not result.ok
        assert any(name in p.path for p in result.problems), (name, result.problems)


def test_damaged_member_inside_the_zip_is_named(tmp_path: Path, bundle: Path) -> None:
    """Flip a byte of the stored zip itself (not a rewrite): the CRC check names the member."""
    with zipfile.ZipFile(bundle) as archive:
        info = archive.getinfo("report.json")
    raw = bytearray(bundle.read_bytes())
    # Local header: 30 bytes + name + extra field, then the compressed data.
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0xFF
    bundle.write_bytes(bytes(raw))
    result = verify_bundle(bundle)
    assert [p.path for p in result.problems] == ["report.json"]
    assert "cannot be read" in result.problems[0].message


def test_added_missing_and_foreign_signatures(tmp_path: Path, bundle: Path,
                                              keys: tuple[Path, Path], samples: Any) -> None:
    files = members(bundle)
    rewrite(bundle, {**files, "observations/extra.bin": b"planted"})
    assert [str(p) for p in verify_bundle(bundle).problems] == [
        "observations/extra.bin: not listed in the manifest: added after signing"]
    rewrite(bundle, {k: v for k, v in files.items() if k != "report.json"})
    assert [p.path for p in verify_bundle(bundle).problems] == ["report.json"]
    rewrite(bundle, {k: v for k, v in files.items() if k != SIGNATURE})
    assert [p.path for p in verify_bundle(bundle).problems] == [SIGNATURE]
    # Someone else's key: the bundle verifies with what it carries, but not with ours.
    other_key, _ = generate_key(tmp_path / "other.key")
    resigned = tmp_path / "resigned.zip"
    build_bundle(samples.document(), samples.observations(), load_private_key(other_key),
                 resigned)
    assert verify_bundle(resigned).ok
    result = verify_bundle(resigned, load_public_key(keys[1]))
    assert not result.ok and any(SIGNATURE in p.path for p in result.problems)
    assert any("different public key" in n for n in result.notes)


def test_not_a_zip_is_a_usage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UsageError, match="not a readable evidence bundle"):
        verify_bundle(junk)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_signature_independently(tmp_path: Path, bundle: Path) -> None:
    files = members(bundle)
    for name in (MANIFEST, SIGNATURE, "signer.pub"):
        (tmp_path / name).write_bytes(files[name])
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pub", "-rawin",
               "-in", MANIFEST, "-sigfile", SIGNATURE]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "Verified Successfully" in done.stdout
    (tmp_path / MANIFEST).write_bytes(files[MANIFEST].replace(b"camaudit", b"camaudiT", 1))
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0


def test_keygen_modes_and_refusals(tmp_path: Path) -> None:
    private, public = generate_key(tmp_path / "k")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public == tmp_path / "k.pub" and b"BEGIN PUBLIC KEY" in public.read_bytes()
    before = private.read_bytes()
    with pytest.raises(UsageError, match="refusing to overwrite"):
        generate_key(private)
    assert private.read_bytes() == before
    generate_key(private, force=True)
    assert private.read_bytes() != before
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_private_key(public)
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_public_key(private)
