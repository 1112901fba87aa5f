"""Render an HTML report in headless Chromium and save a PNG screenshot of it.

    python -m mtfix.evaluation.screenshot report.html report.png [--chromium /usr/bin/chromium] [--size 1200,1600]

Needs Debian's ``chromium`` package (``apt-get install -y chromium``). The page is opened from disk
with networking features off, so the screenshot also shows that the report needs nothing external.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def find_chromium(preferred: str = DEFAULT_CHROMIUM) -> str | None:
    """The Chromium executable: ``preferred`` when it exists, else ``chromium`` on the PATH."""
    if Path(preferred).is_file():
        return preferred
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(
    page: Path,
    image: Path,
    chromium: str = DEFAULT_CHROMIUM,
    size: tuple[int, int] = (1200, 1600),
    timeout: float = 120,
) -> None:
    """Save a ``size`` (width, height) screenshot of the HTML file ``page`` to ``image``."""
    executable = find_chromium(chromium)
    if executable is None:
        raise FileNotFoundError(f"Chromium not found ({chromium}); install it with: apt-get install -y chromium")
    image = image.resolve()
    image.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="mtfix-chromium-") as profile:
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            # Paint the whole page before capturing; without these a tile can come out half drawn.
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=5000",
            f"--user-data-dir={profile}",
            f"--screenshot={image}",
            f"--window-size={size[0]},{size[1]}",
            page.resolve().as_uri(),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0 or not image.is_file():
        raise RuntimeError(f"chromium failed (exit {completed.returncode}): {completed.stderr.strip()[-2000:]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mtfix.evaluation.screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the HTML report")
    parser.add_argument("image", type=Path, help="where to save the PNG")
    parser.add_argument("--chromium", default=DEFAULT_CHROMIUM)
    parser.add_argument("--size", default="1200,1600", help="WIDTH,HEIGHT in pixels (default: 1200,1600)")
    args = parser.parse_args(argv)
    width, height = (int(value) for value in args.size.split(","))
    try:
        screenshot(args.page, args.image, args.chromium, (width, height))
    except (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"screenshot: error: {error}", file=sys.stderr)
        return 1
    print(f"screenshot: wrote {args.image}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
