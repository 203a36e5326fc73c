"""OCR of a scanned page with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-chi-sim``).

Tesseract runs as its own process on a grey page image written as PGM to its standard
input, with English and Simplified Chinese models, under a per-page timeout. Without
the program (or without a language model) scanned pages are reported as not read,
never guessed at. Tesseract writes a space between Han characters; analysis joins them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from camaudit.docs.pages import Limits

#: Render resolution for OCR (Tesseract reads printed text best at about 300 dpi).
DPI = 300
LANGS = ("eng", "chi_sim")


class OcrError(Exception):
    """OCR of one page failed; the message says why (shown as the page's 'not read')."""


@dataclass(frozen=True)
class Tesseract:
    program: str
    langs: str  # e.g. "eng+chi_sim"


def available() -> Tesseract | None:
    """Tesseract with at least one of our languages, or None.

    ``CAMAUDIT_TESSERACT`` names the program (empty: behave as if it were not installed).
    """
    program = os.environ.get("CAMAUDIT_TESSERACT", "tesseract")
    if not program:
        return None
    path = shutil.which(program)
    if path is None:
        return None
    try:
        listed = subprocess.run([path, "--list-langs"], capture_output=True, timeout=20,
                                check=False).stdout.decode("utf-8", "replace").split()
    except (OSError, subprocess.SubprocessError):
        return None
    langs = [lang for lang in LANGS if lang in listed]
    return Tesseract(path, "+".join(langs)) if langs else None


def read_page(page: object, tesseract: Tesseract, limits: Limits) -> str:
    """The text Tesseract reads on a rendered PDFium page."""
    width, height = page.get_size()  # type: ignore[attr-defined]
    scale = _native_scale(page) or DPI / 72
    pixels = width * scale * height * scale
    if pixels > limits.ocr_pixels:  # a huge page is read at a lower resolution
        scale *= (limits.ocr_pixels / pixels) ** 0.5
    if width * scale < 1 or height * scale < 1:
        raise OcrError("page has no area to read")
    bitmap = page.render(scale=scale, grayscale=True)  # type: ignore[attr-defined]
    try:
        image = _pgm(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride)
    finally:
        bitmap.close()
    dpi = max(70, round(72 * scale))
    return run(image, tesseract, limits.ocr_timeout, dpi)


def _native_scale(page: object) -> float | None:
    """The scale at which the page's largest image shows at its own resolution (a scan is
    read best unresampled: resampling a 200 dpi scan to 300 dpi loses Han strokes),
    kept between 150 and 400 dpi; None when the page has no image with a size."""
    import pypdfium2.raw as pdfium_c

    best: tuple[int, float] | None = None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE],  # type: ignore[attr-defined]
                                max_depth=2):
        try:
            px_w, _px_h = obj.get_px_size()
            left, _bottom, right, _top = obj.get_bounds()
        except Exception:  # a broken image object: fall back to the default resolution
            continue
        if right - left > 1 and (best is None or px_w > best[0]):
            best = (px_w, px_w / (right - left))
    if best is None:
        return None
    return min(max(best[1], 150 / 72), 400 / 72)


def _pgm(buffer: bytes, width: int, height: int, stride: int) -> bytes:
    """A binary PGM (netpbm P5) of an 8-bit grey bitmap whose rows are `stride` apart."""
    if stride == width:
        rows = buffer[: width * height]
    else:
        rows = b"".join(buffer[y * stride: y * stride + width] for y in range(height))
    return b"P5 %d %d 255\n" % (width, height) + rows


def run(image: bytes, tesseract: Tesseract, timeout: float, dpi: int = DPI) -> str:
    """Tesseract on one image (any format Leptonica reads) -> text."""
    try:
        done = subprocess.run(
            [tesseract.program, "stdin", "stdout", "-l", tesseract.langs, "--dpi", str(dpi)],
            input=image, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"OCR took longer than {timeout:.0f}s: page not read") from exc
    except OSError as exc:
        raise OcrError(f"OCR could not run: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise OcrError(f"OCR failed: {tail[0][:200]}")
    return done.stdout.decode("utf-8", "replace")
