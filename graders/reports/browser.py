"""Headless Chromium, used to print HTML pages to PDF and (in tests) to take screenshots of them."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser")
# Offline and quiet: no sandbox (it needs user namespaces CI containers lack), no GPU, no update checks.
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = (
            shutil.which(candidate)
            if not candidate.startswith("/")
            else (candidate if Path(candidate).exists() else None)
        )
        if found:
            return found
    return None


def _run(args: list[str], output: Path, timeout: int) -> None:
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("Chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="bootcamp-chromium-") as profile:
        cmd = [chromium, *BASE_FLAGS, f"--user-data-dir={profile}", *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if not output.exists() or output.stat().st_size == 0:
        raise RuntimeError(
            f"Chromium did not write {output} (exit {result.returncode}): {result.stderr[-800:]}"
        )


def print_to_pdf(html: Path, pdf: Path, timeout: int = 60) -> None:
    """Prints a local HTML file to PDF exactly as the browser lays it out (print CSS applies)."""
    pdf.unlink(missing_ok=True)
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()], pdf, timeout)


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2000, timeout: int = 60) -> None:
    """Saves a PNG of a local HTML file at the given window size."""
    png.unlink(missing_ok=True)
    _run([f"--screenshot={png}", f"--window-size={width},{height}", html.resolve().as_uri()], png, timeout)
